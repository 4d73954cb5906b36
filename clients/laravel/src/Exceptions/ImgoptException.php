<?php

namespace Imgopt\Laravel\Exceptions;

use Illuminate\Http\Client\Response;
use RuntimeException;
use Throwable;

/**
 * What went wrong, as the service said it: its machine code (branch on it), the HTTP status, the request id
 * to find the service's log line, and whether sending the same request again can help.
 */
class ImgoptException extends RuntimeException
{
    /** The statuses that sending the same upload again can fix: a stalled upload, a full service. */
    public const RETRYABLE_STATUSES = [408, 503];

    public function __construct(
        string $message,
        public string $errorCode,
        public ?int $status = null,
        public ?string $requestId = null,
        public ?int $retryAfter = null,
        ?Throwable $previous = null,
        private ?bool $retryable = null,
    ) {
        parent::__construct($message, $status ?? 0, $previous);
    }

    /** The service answered with an error: its JSON body names the code and the request id. */
    public static function fromResponse(Response $response): self
    {
        $retryAfter = $response->header('Retry-After');

        return new self(
            (string) ($response->json('error.message') ?? $response->reason() ?: 'HTTP '.$response->status()),
            (string) ($response->json('error.code') ?? 'http_'.$response->status()),
            $response->status(),
            ($response->header('X-Request-Id') ?: $response->json('error.request_id')) ?: null,
            is_numeric($retryAfter) ? (int) $retryAfter : null,
        );
    }

    /** The service could not be reached, or the connection broke before an answer. */
    public static function connectionFailed(Throwable $previous, ?string $requestId = null): self
    {
        $code = str_contains($previous->getMessage(), 'cURL error 28') ? 'timed_out' : 'connection_failed';

        return new self('imgopt could not be reached: '.$previous->getMessage(), $code, null, $requestId, null, $previous, true);
    }

    /**
     * Whether the same request may succeed later: a connection that failed, a stalled upload or a full
     * service. A bad file, a bad field or a wrong token will fail the same way every time.
     */
    public function isRetryable(): bool
    {
        return $this->retryable ?? in_array($this->status, self::RETRYABLE_STATUSES, true);
    }

    /**
     * Whether the service, not the upload, is why nothing was made: unreachable, overloaded, failing, or
     * refusing the app's token. Such work waits on the queue for the service; a bad file never will.
     */
    public function isTheServices(): bool
    {
        return $this->isRetryable()
            || ($this->status !== null && ($this->status >= 500 || in_array($this->status, [401, 403, 429], true)));
    }
}
