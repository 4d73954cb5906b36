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

    /** The upload itself is the problem (bad file, too large, unsupported): do not retry it. */
    public function isPermanent(): bool
    {
        return $this->status >= 400 && $this->status < 500;
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
     * Convert image bytes. $options: format, quality, width, height, fit, enlarge, lossless, animated.
     *
     * @throws ImgoptException      imgopt answered with an error (branch on ->errorCode)
     * @throws ConnectionException  imgopt could not be reached, even after retries
     */
    public function convert(string $contents, array $options = [], ?string $requestId = null): ImgoptResult
    {
        $request = $this->http
            ->withToken($this->token)
            ->accept('image/*, application/json')
            ->timeout($this->timeout)
            ->withOptions(['connect_timeout' => 5])
            // Conversions are idempotent: retry a closed connection or a 503, never a 4xx.
            ->retry($this->tries, 250, function ($exception) {
                return $exception instanceof ConnectionException
                    || ($exception instanceof RequestException && $exception->response->status() === 503);
            })
            ->attach('file', $contents, 'upload');
        if ($requestId !== null) {
            $request = $request->withHeaders(['X-Request-Id' => $requestId]);
        }

        $fields = array_map(
            fn ($value) => is_bool($value) ? ($value ? 'true' : 'false') : (string) $value,
            array_filter($options, fn ($value) => $value !== null),
        );

        try {
            $response = $request->post(rtrim($this->url, '/').'/convert', $fields);
        } catch (RequestException $exception) {
            $response = $exception->response;
        }

        if (! $response->successful()) {
            throw $this->error($response);
        }

        return new ImgoptResult(
            body: $response->body(),
            contentType: $response->header('Content-Type'),
            width: (int) $response->header('X-Image-Width'),
            height: (int) $response->header('X-Image-Height'),
            requestId: $response->header('X-Request-Id'),
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
