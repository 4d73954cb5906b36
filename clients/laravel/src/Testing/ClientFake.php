<?php

namespace Imgopt\Laravel\Testing;

use GuzzleHttp\Psr7\Response as Psr7Response;
use Illuminate\Http\Client\Response;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Upload;
use PHPUnit\Framework\Assert as PHPUnit;

/**
 * Imgopt::fake(): the real client with the service replaced by answers made here, so an application's tests
 * run without imgopt. Sizes come from PHP's getimagesize and the fields (fit inside, never enlarged, a
 * cover box exactly); every stored file is a one-pixel image of the declared format. Uploads getimagesize
 * cannot read are refused with 415 unsupported_format, as the service would refuse most of them.
 */
class ClientFake extends Client
{
    /** @var list<array{path: string, fields: array, bytes: int}> */
    private array $sent = [];

    private ?ImgoptException $failure = null;

    /** Answer every following request with this error (null: answer normally again). */
    public function failWith(?string $code, int $status = 422, string $message = 'faked by Imgopt::fake()'): self
    {
        $this->failure = $code === null ? null : new ImgoptException($message, $code, $status, 'fake');

        return $this;
    }

    public function storeMany(iterable $requests, int $concurrency, callable $done): void
    {
        foreach ($requests as $key => $request) {
            try {
                $done($key, $this->storeRequest($request));
            } catch (ImgoptException $error) {
                $done($key, $error);
            }
        }
    }

    /** Assert that some request went to $path ('/variants', '/convert', '/info') and passes $filter. */
    public function assertSent(string $path, ?callable $filter = null): void
    {
        $matching = array_filter($this->sent, fn ($sent) => $sent['path'] === $path && ($filter === null || $filter($sent['fields'])));
        PHPUnit::assertNotEmpty($matching, "No request to imgopt {$path} matched.");
    }

    public function assertSentCount(int $count): void
    {
        PHPUnit::assertCount($count, $this->sent, 'imgopt received a different number of requests.');
    }

    public function assertNothingSent(): void
    {
        $this->assertSentCount(0);
    }

    protected function send(string $path, Upload $upload, array $fields, ?string $requestId): Response
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
