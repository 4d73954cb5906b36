<?php

// The imgopt client for Laravel, exactly as docs/laravel.md shows it (app/Services/Imgopt/ImgoptClient.php).
// tests/test_laravel.py runs it against a real imgopt through Laravel's own HTTP client.

namespace App\Services\Imgopt;

use Illuminate\Http\Client\ConnectionException;
use Illuminate\Http\Client\Factory;
use Illuminate\Http\Client\RequestException;
use Illuminate\Http\Client\Response;

final class ImgoptResult
{
    public function __construct(
        public readonly string $body,
        public readonly string $contentType,
        public readonly int $width,
        public readonly int $height,
        public readonly string $requestId,
        /** The encoder quality used (null for PNG and lossless output): send it back to get the same bytes. */
        public readonly ?int $quality = null,
        /** With quality 'auto', the SSIMULACRA2 score the bytes reached (75 by default; 90 is visually lossless). */
        public readonly ?float $score = null,
    ) {
    }
}

/** What the upload is: upright size, format, frames, transparency; and a placeholder to paint meanwhile. */
final class ImgoptInfo
{
    public function __construct(
        public readonly string $format,
        public readonly int $width,
        public readonly int $height,
        public readonly int $frames,
        public readonly bool $animated,
        public readonly bool $hasAlpha,
        public readonly string $color,
        public readonly string $blurhash,
        public readonly string $thumbhash,
        public readonly string $requestId,
    ) {
    }

    public static function fromResponse(Response $response): self
    {
        return new self(
            format: (string) $response->json('source.format'),
            width: (int) $response->json('source.width'),
            height: (int) $response->json('source.height'),
            frames: (int) $response->json('source.frames'),
            animated: (bool) $response->json('source.animated'),
            hasAlpha: (bool) $response->json('source.has_alpha'),
            color: (string) $response->json('placeholder.color'),
            blurhash: (string) $response->json('placeholder.blurhash'),
            thumbhash: (string) $response->json('placeholder.thumbhash'),
            requestId: (string) $response->header('X-Request-Id'),
        );
    }
}

/** One rendition of a /variants set, decoded. */
final class ImgoptRendition
{
    public function __construct(
        public readonly string $name,
        public readonly string $format,
        public readonly string $contentType,
        public readonly int $width,
        public readonly int $height,
        public readonly int $frames,
        public readonly string $body,
        public readonly ?int $quality = null,
        public readonly ?float $score = null,
    ) {
    }
}

final class ImgoptRenditionSet
{
    /** @param array<string, ImgoptRendition> $renditions by name, in request order */
    public function __construct(
        public readonly ImgoptInfo $info,
        public readonly array $renditions,
    ) {
    }
}

final class ImgoptException extends \RuntimeException
{
    public function __construct(
        public readonly int $status,
        public readonly string $errorCode,
        string $message,
        public readonly ?string $requestId,
    ) {
        parent::__construct($message, $status);
    }

    /** The upload itself is the problem (bad file, too large, unsupported): do not retry it. A 408 (the upload
     *  stalled on its way) is not: sending it again is the fix. */
    public function isPermanent(): bool
    {
        return $this->status >= 400 && $this->status < 500 && $this->status !== 408;
    }
}

final class ImgoptClient
{
    public function __construct(
        private Factory $http,
        private string $url,
        private string $token,
        private int $timeout = 60,
        private int $tries = 3,
    ) {
    }

    /**
     * Convert image bytes. $options: format ('webp', 'avif', 'jpeg', 'png', or 'auto' for the smaller of WebP
     * and AVIF), quality (1-100, or 'auto' for the smallest file that still scores `target`), target (50-95),
     * width, height, fit, enlarge, lossless, animated, and the framing fields crop ([x, y, width, height] in
     * upright pixels), gravity ('center', 'north', ..., 'smart') and focus ([x, y], fractions 0-1).
     *
     * @throws ImgoptException      imgopt answered with an error (branch on ->errorCode)
     * @throws ConnectionException  imgopt could not be reached, even after retries
     */
    public function convert(string $contents, array $options = [], ?string $requestId = null): ImgoptResult
    {
        $response = $this->send('/convert', $contents, $this->fields($options), $requestId);

        return new ImgoptResult(
            body: $response->body(),
            contentType: $response->header('Content-Type'),
            width: (int) $response->header('X-Image-Width'),
            height: (int) $response->header('X-Image-Height'),
            requestId: $response->header('X-Request-Id'),
            quality: $response->hasHeader('X-Image-Quality') ? (int) $response->header('X-Image-Quality') : null,
            score: $response->hasHeader('X-Image-Score') ? (float) $response->header('X-Image-Score') : null,
        );
    }

    /**
     * Several renditions of one upload in one request, with the image's facts and placeholder.
     * $variants: name => options (as for convert()); $defaults apply to every rendition that does not set them.
     *
     * @param  array<string, array>  $variants
     * @throws ImgoptException|ConnectionException
     */
    public function variants(
        string $contents,
        array $variants,
        array $defaults = [],
        ?string $requestId = null,
    ): ImgoptRenditionSet {
        $list = [];
        foreach ($variants as $name => $options) {
            $list[] = ['name' => (string) $name] + array_filter($options, fn ($value) => $value !== null);
        }
        $fields = $this->fields($defaults) + ['variants' => json_encode($list, JSON_THROW_ON_ERROR)];
        $response = $this->send('/variants', $contents, $fields, $requestId);

        $renditions = [];
        foreach ($response->json('variants') as $item) {
            $renditions[$item['name']] = new ImgoptRendition(
                name: $item['name'],
                format: $item['format'],
                contentType: $item['media_type'],
                width: $item['width'],
                height: $item['height'],
                frames: $item['frames'],
                body: base64_decode($item['data'], true),
                quality: $item['quality'],
                score: $item['score'],
            );
        }

        return new ImgoptRenditionSet(ImgoptInfo::fromResponse($response), $renditions);
    }

    /**
     * The upload's facts and placeholder, cheaply: validate and record an image during an upload.
     *
     * @throws ImgoptException|ConnectionException
     */
    public function info(string $contents, ?string $requestId = null): ImgoptInfo
    {
        return ImgoptInfo::fromResponse($this->send('/info', $contents, [], $requestId));
    }

    private function send(string $path, string $contents, array $fields, ?string $requestId): Response
    {
        $request = $this->http
            ->withToken($this->token)
            ->accept('image/*, application/json')
            ->timeout($this->timeout)
            ->withOptions(['connect_timeout' => 5])
            // Conversions are idempotent: retry a refused or reset connection, a stalled upload (408) or
            // a 503 (after its Retry-After), never another 4xx. Our own timeout is not retried at once:
            // imgopt drops work for callers who left, and the queue retries the job with backoff.
            ->retry($this->tries, 250, function ($exception) {
                if ($exception instanceof ConnectionException) {
                    return ! str_contains($exception->getMessage(), 'cURL error 28');
                }
                if (! $exception instanceof RequestException) {
                    return false;
                }
                $status = $exception->response->status();
                if ($status === 503) {
                    $wait = (int) $exception->response->header('Retry-After');
                    usleep(max(0, $wait * 1000000 - 250000));
                }

                return in_array($status, [408, 503], true);
            })
            ->attach('file', $contents, 'upload');
        if ($requestId !== null) {
            $request = $request->withHeaders(['X-Request-Id' => $requestId]);
        }

        try {
            $response = $request->post(rtrim($this->url, '/').$path, $fields);
        } catch (RequestException $exception) {
            $response = $exception->response;
        }

        if (! $response->successful()) {
            throw $this->error($response);
        }

        return $response;
    }

    /** Form fields as imgopt reads them: strings, booleans as true/false, lists comma-joined, nulls left out. */
    private function fields(array $options): array
    {
        return array_map(
            fn ($value) => match (true) {
                is_bool($value) => $value ? 'true' : 'false',
                is_array($value) => implode(',', $value),
                default => (string) $value,
            },
            array_filter($options, fn ($value) => $value !== null),
        );
    }

    private function error(Response $response): ImgoptException
    {
        return new ImgoptException(
            status: $response->status(),
            errorCode: (string) ($response->json('error.code') ?? 'http_'.$response->status()),
            message: (string) ($response->json('error.message') ?? $response->reason()),
            requestId: $response->header('X-Request-Id') ?: null,
        );
    }
}
