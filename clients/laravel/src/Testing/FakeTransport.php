<?php

namespace Imgopt\Laravel\Testing;

use GuzzleHttp\Psr7\Response as Psr7Response;
use Illuminate\Http\Client\Response;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Http\Transport;
use Imgopt\Laravel\Http\Upload;

/**
 * The service, answered here: what Imgopt::fake() sends requests to. Sizes come from PHP's getimagesize and
 * the fields (fit inside, never enlarged, a cover box exactly); every file is a one-pixel image of the
 * declared format. Uploads getimagesize cannot read are refused with 415 unsupported_format, as the service
 * would refuse most of them.
 */
class FakeTransport extends Transport
{
    /** @var list<array{path: string, fields: array, bytes: int}> */
    public array $sent = [];

    public ?ImgoptException $failure = null;

    public function __construct()
    {
    }

    public function postMany(string $path, array $requests): array
    {
        $results = [];
        foreach ($requests as $key => [$upload, $fields, $requestId]) {
            try {
                $results[$key] = $this->post($path, $upload, $fields, $requestId);
            } catch (ImgoptException $error) {
                $results[$key] = $error;
            }
        }

        return $results;
    }

    public function get(string $path): Response
    {
        return $this->response(json_encode(['status' => 'ok', 'version' => 'fake', 'uptime_seconds' => 0]), ['Content-Type' => 'application/json']);
    }

    public function post(string $path, Upload $upload, array $fields, ?string $requestId = null): Response
    {
        $this->sent[] = ['path' => $path, 'fields' => $fields, 'bytes' => $upload->size()];
        if ($this->failure !== null) {
            throw $this->failure;
        }
        $size = @getimagesizefromstring($upload->contents());
        if ($size === false) {
            throw new ImgoptException('the upload is not an image the fake can read', 'unsupported_format', 415, 'fake');
        }
        [$width, $height] = $size;
        $source = [
            'format' => image_type_to_extension($size[2], false),
            'width' => $width,
            'height' => $height,
            'frames' => 1,
            'animated' => false,
            'has_alpha' => false,
        ];
        $placeholder = [
            'color' => '#808080',
            'blurhash' => 'L00000fQfQfQfQfQfQfQfQfQfQfQ',
            'thumbhash' => 'AAAAAAAAAAAAAAAAAAAAAAAA',
            'data_uri' => 'data:image/webp;base64,'.TinyImages::BASE64['webp'],
        ];

        if ($path === '/convert') {
            [$w, $h] = $this->fit($width, $height, $fields);
            $format = $this->format($fields['format'] ?? 'webp');

            return $this->response(TinyImages::of($format), [
                'Content-Type' => "image/{$format}",
                'X-Image-Width' => (string) $w,
                'X-Image-Height' => (string) $h,
                'X-Request-Id' => $requestId ?? 'fake',
            ]);
        }
        $body = ['source' => $source, 'placeholder' => $placeholder];
        if ($path === '/variants') {
            $defaults = array_diff_key($fields, ['variants' => true]);
            $body['variants'] = array_map(function (array $item) use ($defaults, $width, $height) {
                $fields = $item + $defaults;
                [$w, $h] = $this->fit($width, $height, $fields);
                $format = $this->format($fields['format'] ?? 'webp');
                $contents = TinyImages::of($format);

                return [
                    'name' => $item['name'], 'format' => $format, 'media_type' => "image/{$format}",
                    'width' => $w, 'height' => $h, 'frames' => 1, 'bytes' => strlen($contents),
                    'quality' => (int) ($fields['quality'] ?? 80), 'score' => null, 'region' => null,
                    'data' => base64_encode($contents),
                ];
            }, json_decode($fields['variants'], true));
        }

        return $this->response(json_encode($body), ['Content-Type' => 'application/json', 'X-Request-Id' => $requestId ?? 'fake']);
    }

    /** @return array{int, int} the size the service would make: inside the box, never enlarged */
    private function fit(int $width, int $height, array $fields): array
    {
        $boxWidth = isset($fields['width']) ? (int) $fields['width'] : null;
        $boxHeight = isset($fields['height']) ? (int) $fields['height'] : null;
        if (($fields['fit'] ?? 'inside') === 'cover' && $boxWidth && $boxHeight) {
            return [min($boxWidth, $width), min($boxHeight, $height)];
        }
        $scale = min(1.0, $boxWidth ? $boxWidth / $width : 1.0, $boxHeight ? $boxHeight / $height : 1.0);

        return [max(1, (int) round($width * $scale)), max(1, (int) round($height * $scale))];
    }

    private function format(string $format): string
    {
        return $format === 'auto' ? 'webp' : $format;
    }

    private function response(string $body, array $headers): Response
    {
        return new Response(new Psr7Response(200, $headers, $body));
    }
}
