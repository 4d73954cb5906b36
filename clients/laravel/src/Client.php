<?php

namespace Imgopt\Laravel;

use GuzzleHttp\Exception\TransferException;
use Illuminate\Contracts\Filesystem\Factory as FilesystemFactory;
use Illuminate\Http\Client\ConnectionException;
use Illuminate\Http\Client\Factory as HttpFactory;
use Illuminate\Http\Client\PendingRequest;
use Illuminate\Http\Client\Pool;
use Illuminate\Http\Client\Response;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Results\Image;
use Imgopt\Laravel\Results\Info;
use Imgopt\Laravel\Results\Variants;
use InvalidArgumentException;
use SplFileInfo;
use Throwable;

/**
 * The imgopt HTTP API through Laravel's HTTP client: convert, variants, info and health, with retries where
 * sending again can help, and store(), which turns one /variants answer into files on a disk.
 */
class Client
{
    private RenditionWriter $writer;

    /** @param  array  $config  config('imgopt') */
    public function __construct(
        protected HttpFactory $http,
        protected FilesystemFactory $storage,
        protected array $config,
    ) {
        $this->writer = new RenditionWriter(
            $storage,
            $config['path'] ?? '{folder}/{hash}/{name}.{format}',
            $config['visibility'] ?? 'public',
        );
    }

    /**
     * Convert one image. $options are the /convert fields: format ('webp', 'avif', 'jpeg', 'png', or 'auto'),
     * quality (1-100 or 'auto'), target, width, height, fit, enlarge, lossless, animated, crop ([x, y, w, h]),
     * gravity and focus ([x, y]).
     *
     * @param  Upload|SplFileInfo|string  $file
     *
     * @throws ImgoptException
     */
    public function convert($file, array $options = [], ?string $requestId = null): Image
    {
        $response = $this->send('/convert', $this->upload($file), $this->fields($options), $requestId);

        return new Image(
            $response->body(),
            (string) $response->header('Content-Type'),
            (int) $response->header('X-Image-Width'),
            (int) $response->header('X-Image-Height'),
            $response->header('X-Request-Id') ?: null,
            $response->hasHeader('X-Image-Quality') ? (int) $response->header('X-Image-Quality') : null,
            $response->hasHeader('X-Image-Score') ? (float) $response->header('X-Image-Score') : null,
        );
    }

    /**
     * Several named renditions of one upload in one request, with its facts and placeholder.
     *
     * @param  Upload|SplFileInfo|string  $file
     * @param  array<string, array>|SetDefinition|string  $variants  name => fields, a set, or a set's name
     *
     * @throws ImgoptException
     */
    public function variants($file, $variants = 'default', array $defaults = [], ?string $requestId = null): Variants
    {
        $set = $this->definition($variants, $defaults);
        $response = $this->send('/variants', $this->upload($file), $this->variantFields($set), $requestId);

        return Variants::fromResponse($response);
    }

    /**
     * The upload's facts and placeholder without any rendition: cheap, to validate an upload as it arrives.
     *
     * @param  Upload|SplFileInfo|string  $file
     *
     * @throws ImgoptException
     */
    public function info($file, ?string $requestId = null): Info
    {
        return Info::fromResponse($this->send('/info', $this->upload($file), [], $requestId));
    }

    /**
     * The service's /health answer: status, version, uptime_seconds.
     *
     * @throws ImgoptException
     */
    public function health(): array
    {
        try {
            $response = $this->request()->get($this->url('/health'));
        } catch (ConnectionException $error) {
            throw ImgoptException::connectionFailed($error);
        }
        if (! $response->successful()) {
            throw ImgoptException::fromResponse($response);
        }

        return (array) $response->json();
    }

    /**
     * Make every rendition of a set with one /variants request and put them on the disk (default: the
     * configured one). $folder is the {folder} of the path pattern.
     *
     * @param  Upload|SplFileInfo|string  $file  an UploadedFile, a local path, or a path on the source disk
     *
     * @throws ImgoptException
     */
    public function store($file, string $set = 'default', string $folder = '', ?string $disk = null, ?string $requestId = null): RenditionSet
    {
        return $this->storeRequest(new StoreRequest($file, $set, $folder, $disk), $requestId);
    }

    /**
     * store() with every choice in one value: what HasRenditions and storeMany() send.
     *
     * @throws ImgoptException
     */
    public function storeRequest(StoreRequest $request, ?string $requestId = null): RenditionSet
    {
        $upload = $this->upload($request->file, $request->sourceDisk);
        $definition = $this->set($request->set);

        return $this->write($this->variants($upload, $definition, [], $requestId), $definition, $upload, $request);
    }

    /**
     * store() for many uploads, $concurrency requests in flight at once (Http::pool). $done receives each
     * item's key and its RenditionSet or ImgoptException as it finishes. A request that fails in a way a
     * retry can fix is sent again on its own, with the usual backoff.
     *
     * @param  iterable<string|int, StoreRequest>  $requests
     * @param  callable(string|int, RenditionSet|ImgoptException): void  $done
     */
    public function storeMany(iterable $requests, int $concurrency, callable $done): void
    {
        $batch = [];
        foreach ($requests as $key => $request) {
            $batch[$key] = $request;
            if (count($batch) >= max(1, $concurrency)) {
                $this->storeBatch($batch, $done);
                $batch = [];
            }
        }
        if ($batch !== []) {
            $this->storeBatch($batch, $done);
        }
    }

    /** The named set from config('imgopt.sets'). */
    public function set(string $name): SetDefinition
    {
        $config = $this->config['sets'][$name] ?? null;
        if (! is_array($config)) {
            throw new InvalidArgumentException("imgopt has no set named '{$name}' (config/imgopt.php, 'sets')");
        }

        return SetDefinition::fromConfig($name, $config);
    }

    /** @param  Upload|SplFileInfo|string  $file */
    public function upload($file, ?string $disk = null): Upload
    {
        return Upload::from($file, $this->storage, $disk ?? $this->config['source_disk'] ?? null);
    }

    /** @param  array<string|int, StoreRequest>  $batch */
    private function storeBatch(array $batch, callable $done): void
    {
        $prepared = [];
        foreach ($batch as $key => $request) {
            try {
                $upload = $this->upload($request->file, $request->sourceDisk);
                $prepared[$key] = [$request, $upload, $this->set($request->set), $this->requestId()];
            } catch (ImgoptException $error) {
                $done($key, $error);
            }
        }
        if ($prepared === []) {
            return;
        }

        $responses = $this->http->pool(function (Pool $pool) use ($prepared) {
            foreach ($prepared as $key => [$request, $upload, $definition, $requestId]) {
                $this->prepare($pool->as((string) $key), $upload, $requestId)
                    ->post($this->url('/variants'), $this->variantFields($definition));
            }
        });

        foreach ($prepared as $key => [$request, $upload, $definition, $requestId]) {
            $response = $responses[(string) $key] ?? null;
            $error = $response instanceof Response
                ? ($response->successful() ? null : ImgoptException::fromResponse($response))
                : ImgoptException::connectionFailed(
                    $response instanceof Throwable ? $response : new ConnectionException('no response'),
                    $requestId,
                );
            try {
                if ($error !== null && ! $error->isRetryable()) {
                    throw $error;
                }
                $set = $error === null
                    ? $this->write(Variants::fromResponse($response), $definition, $upload, $request)
                    : $this->storeRequest(new StoreRequest($upload, $request->set, $request->folder, $request->disk), $requestId);
                $done($key, $set);
            } catch (ImgoptException $failure) {
                $done($key, $failure);
            }
        }
    }

    private function write(Variants $variants, SetDefinition $definition, Upload $upload, StoreRequest $request): RenditionSet
    {
        return $this->writer->write($variants, $definition, $upload->hash(), $request->disk ?? $this->config['disk'] ?? null, $request->folder);
    }

    /** @param  array<string, array>|SetDefinition|string  $variants */
    private function definition($variants, array $defaults): SetDefinition
    {
        if (is_string($variants)) {
            $set = $this->set($variants);
        } elseif ($variants instanceof SetDefinition) {
            $set = $variants;
        } else {
            $set = new SetDefinition('custom', $variants);
        }

        return $defaults === [] ? $set : new SetDefinition($set->name, $set->variants, $defaults + $set->defaults);
    }

    /**
     * One request with its retries: a connection that failed, a 408 or a 503 is sent again after the
     * configured backoff (or the service's Retry-After, when longer); anything else is final. Our own
     * timeout is final too: the service dropped the work when we left, and the queue retries the job later.
     */
    protected function send(string $path, Upload $upload, array $fields, ?string $requestId): Response
    {
        $requestId ??= $this->requestId();
        $attempts = max(1, (int) ($this->config['retries'] ?? 3));
        for ($attempt = 1; ; $attempt++) {
            try {
                $response = $this->prepare($this->request(), $upload, $requestId)->post($this->url($path), $fields);
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

    private function request(): PendingRequest
    {
        return $this->withTimeouts($this->http->accept('application/json'));
    }

    private function withTimeouts(PendingRequest $request): PendingRequest
    {
        return $request->timeout((int) ($this->config['timeout'] ?? 60))
            ->withOptions(['connect_timeout' => (int) ($this->config['connect_timeout'] ?? 5)]);
    }

    private function prepare(PendingRequest $request, Upload $upload, string $requestId): PendingRequest
    {
        return $this->withTimeouts($request)
            ->withToken((string) ($this->config['token'] ?? ''))
            ->withHeaders(['X-Request-Id' => $requestId])
            ->accept('application/json, image/*')
            ->attach('file', $upload->body(), 'upload');
    }

    private function delayMs(int $attempt, ImgoptException $error): int
    {
        $backoff = array_values((array) ($this->config['backoff'] ?? [250]));
        $delay = (int) ($backoff[min($attempt, count($backoff)) - 1] ?? 0);

        return max($delay, ($error->retryAfter ?? 0) * 1000);
    }

    private function variantFields(SetDefinition $set): array
    {
        $list = [];
        foreach ($set->variants as $name => $fields) {
            $list[] = ['name' => (string) $name] + array_filter($fields, fn ($value) => $value !== null);
        }

        return $this->fields($set->defaults) + ['variants' => json_encode($list, JSON_THROW_ON_ERROR)];
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

    private function url(string $path): string
    {
        return rtrim((string) ($this->config['url'] ?? ''), '/').$path;
    }

    private function requestId(): string
    {
        return 'laravel-'.bin2hex(random_bytes(8));
    }
}
