<?php

namespace Imgopt\Laravel\Http;

use Composer\InstalledVersions;
use Illuminate\Http\Client\ConnectionException;
use Illuminate\Http\Client\Factory as HttpFactory;
use Illuminate\Http\Client\PendingRequest;
use Illuminate\Http\Client\Pool;
use Illuminate\Http\Client\Response;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Throwable;

/**
 * Requests to the service through Laravel's HTTP client: the token, a request id, the timeouts, and a retry
 * where sending again can help. A connection that failed, a 408 or a 503 is sent again after the configured
 * backoff (or the service's Retry-After, when longer); anything else is final. Our own timeout is final too:
 * the service dropped the work when we left, and the queue retries the job later.
 *
 * Every request says who sends it (User-Agent: imgopt-laravel/VERSION) and how long it waits (RFC 7240's
 * Prefer: wait=N, the timeout): the service then never starts what it could not finish in that time, and
 * never refuses what it could, whatever other callers on the same token wait (docs/api.md).
 */
class Transport
{
    /** @param  array  $config  config('imgopt'): url, token, timeout, connect_timeout, retries, backoff */
    public function __construct(
        private HttpFactory $http,
        private array $config,
    ) {
    }

    /**
     * POST an upload and its form fields to $path, with the retries.
     *
     * @throws ImgoptException
     */
    public function post(string $path, Upload $upload, array $fields, ?string $requestId = null): Response
    {
        $requestId ??= self::requestId();
        $attempts = max(1, (int) $this->config['retries']);
        for ($attempt = 1; ; $attempt++) {
            try {
                $response = $this->prepare($this->http->accept('application/json'), $upload, $requestId, $fields)->post($this->url($path), self::textFields($fields));
                if ($response->successful()) {
                    return $response;
                }
                $error = ImgoptException::fromResponse($response);
            } catch (ConnectionException $exception) {
                $error = ImgoptException::connectionFailed($exception, $requestId);
            }
            if ($attempt >= $attempts || ! $error->isRetryable() || $error->errorCode === 'timed_out') {
                throw $error;
            }
            usleep($this->delayMs($attempt, $error) * 1000);
        }
    }

    /**
     * POST many uploads to $path, all in flight at once (Http::pool). A request that fails in a way a retry
     * can fix is then sent again on its own, with the usual retries.
     *
     * @param  array<string|int, array{0: Upload, 1: array, 2: string}>  $requests  key => [upload, fields, request id]
     * @return array<string|int, Response|ImgoptException> in the order of $requests
     */
    public function postMany(string $path, array $requests): array
    {
        if ($requests === []) {
            return [];
        }
        $responses = $this->http->pool(function (Pool $pool) use ($path, $requests) {
            foreach ($requests as $key => [$upload, $fields, $requestId]) {
                $this->prepare($pool->as((string) $key), $upload, $requestId, $fields)->post($this->url($path), self::textFields($fields));
            }
        });
        $results = [];
        foreach ($requests as $key => [$upload, $fields, $requestId]) {
            $response = $responses[(string) $key] ?? null;
            if ($response instanceof Response && $response->successful()) {
                $results[$key] = $response;

                continue;
            }
            $error = $response instanceof Response
                ? ImgoptException::fromResponse($response)
                : ImgoptException::connectionFailed($response instanceof Throwable ? $response : new ConnectionException('no response'), $requestId);
            try {
                $results[$key] = $error->isRetryable() ? $this->post($path, $upload, $fields, $requestId) : $error;
            } catch (ImgoptException $final) {
                $results[$key] = $final;
            }
        }

        return $results;
    }

    /**
     * GET $path without the token (the service's health check).
     *
     * @throws ImgoptException
     */
    public function get(string $path): Response
    {
        try {
            $response = $this->withTimeouts($this->http->accept('application/json'))->get($this->url($path));
        } catch (ConnectionException $error) {
            throw ImgoptException::connectionFailed($error);
        }
        if (! $response->successful()) {
            throw ImgoptException::fromResponse($response);
        }

        return $response;
    }

    /** A request id the service logs beside its own line for this request. */
    public static function requestId(): string
    {
        return 'laravel-'.bin2hex(random_bytes(8));
    }

    /** What every request says of itself: the package, and the wait its timeout allows. */
    public function identity(): array
    {
        return ['User-Agent' => 'imgopt-laravel/'.self::version(), 'Prefer' => 'wait='.(int) $this->config['timeout']];
    }

    /** The installed package's version, as Composer recorded it ("dev" outside a Composer install). */
    public static function version(): string
    {
        if (class_exists(InstalledVersions::class) && InstalledVersions::isInstalled('imgopt/laravel')) {
            return (string) InstalledVersions::getPrettyVersion('imgopt/laravel');
        }

        return 'dev';
    }

    private function withTimeouts(PendingRequest $request): PendingRequest
    {
        return $request->timeout((int) $this->config['timeout'])
            ->withOptions(['connect_timeout' => (int) $this->config['connect_timeout']])
            ->withHeaders($this->identity());
    }

    /** The request with the token, the upload, and any other file part among $fields (a watermark). */
    private function prepare(PendingRequest $request, Upload $upload, string $requestId, array $fields = []): PendingRequest
    {
        $request = $this->withTimeouts($request)
            ->withToken((string) $this->config['token'])
            ->withHeaders(['X-Request-Id' => $requestId])
            ->accept('application/json, image/*')
            ->attach('file', $upload->body(), 'upload');
        foreach ($fields as $name => $value) {
            if ($value instanceof Upload) {
                $request = $request->attach((string) $name, $value->body(), (string) $name);
            }
        }

        return $request;
    }

    /** The form's text fields: file parts are attached by prepare(). */
    private static function textFields(array $fields): array
    {
        return array_filter($fields, fn ($value) => ! $value instanceof Upload);
    }

    private function delayMs(int $attempt, ImgoptException $error): int
    {
        $backoff = array_values((array) $this->config['backoff']);
        $delay = (int) ($backoff[min($attempt, count($backoff)) - 1] ?? 0);

        return max($delay, ($error->retryAfter ?? 0) * 1000);
    }

    private function url(string $path): string
    {
        return rtrim((string) $this->config['url'], '/').$path;
    }
}
