<?php

namespace Imgopt\Laravel;

use Illuminate\Contracts\Filesystem\Factory as FilesystemFactory;
use Illuminate\Http\Client\Factory as HttpFactory;
use Illuminate\Support\Arr;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Http\Transport;
use Imgopt\Laravel\Http\Upload;
use Imgopt\Laravel\Results\Image;
use Imgopt\Laravel\Results\Info;
use Imgopt\Laravel\Results\Variants;
use Imgopt\Laravel\Sets\RenditionSet;
use Imgopt\Laravel\Sets\SetDefinition;
use Imgopt\Laravel\Sets\SetStore;
use Imgopt\Laravel\Sets\StoreRequest;
use InvalidArgumentException;
use SplFileInfo;

/**
 * The imgopt HTTP API: convert, variants, info and health as typed results (requests and their retries are
 * Http\Transport's), and store(), which keeps every rendition of a set on a disk (Sets\SetStore).
 */
class Client
{
    /** The package's config, the one place its defaults are declared (published as config/imgopt.php). */
    public const CONFIG = __DIR__.'/../config/imgopt.php';

    protected array $config;

    protected Transport $transport;

    private SetStore $store;

    /** @param  array  $config  config('imgopt'); what it leaves out comes from the package's config file */
    public function __construct(HttpFactory $http, FilesystemFactory $storage, array $config, ?Transport $transport = null)
    {
        $this->config = self::withDefaults($config);
        $this->transport = $transport ?? new Transport($http, $this->config);
        $this->store = new SetStore($this, $storage, $this->config);
    }

    /** The package's config file as it ships (each key's default, env() read as usual). */
    public static function defaults(): array
    {
        return require self::CONFIG;
    }

    /**
     * An app's config('imgopt') over the package's defaults, key by key at every level: a published config
     * that leaves out queue.tries still has it. A list (backoff, widths) is the app's own, whole.
     */
    public static function withDefaults(array $config, ?array $defaults = null): array
    {
        $merged = $defaults ?? self::defaults();
        foreach ($config as $key => $value) {
            $default = $merged[$key] ?? null;
            $merged[$key] = is_array($value) && is_array($default) && Arr::isAssoc($value) && Arr::isAssoc($default)
                ? self::withDefaults($value, $default)
                : $value;
        }

        return $merged;
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
        $response = $this->transport->post('/convert', $this->upload($file), $this->fields($options), $requestId);

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
        $response = $this->transport->post('/variants', $this->upload($file), $this->variantFields($set), $requestId);

        return Variants::fromResponse($response);
    }

    /**
     * /variants for many uploads at once, all in flight together: each key's answer, or why it failed after
     * the retries a failure allows.
     *
     * @param  array<string|int, array{0: Upload, 1: SetDefinition, 2: string}>  $requests  key => [upload, set, request id]
     * @return array<string|int, Variants|ImgoptException>
     */
    public function variantsMany(array $requests): array
    {
        $posts = array_map(fn ($request) => [$request[0], $this->variantFields($request[1]), $request[2]], $requests);

        return array_map(
            fn ($result) => $result instanceof ImgoptException ? $result : Variants::fromResponse($result),
            $this->transport->postMany('/variants', $posts),
        );
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
        return Info::fromResponse($this->transport->post('/info', $this->upload($file), [], $requestId));
    }

    /**
     * The service's /health answer: status, version, uptime_seconds.
     *
     * @throws ImgoptException
     */
    public function health(): array
    {
        return (array) $this->transport->get('/health')->json();
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
        return $this->store->store(new StoreRequest($file, $set, $folder, $disk), $requestId);
    }

    /**
     * store() with every choice in one value: what HasRenditions and storeMany() send.
     *
     * @throws ImgoptException
     */
    public function storeRequest(StoreRequest $request, ?string $requestId = null): RenditionSet
    {
        return $this->store->store($request, $requestId);
    }

    /**
     * store() for many uploads, $concurrency requests in flight at once. $done receives each item's key and
     * its RenditionSet or ImgoptException as it finishes.
     *
     * @param  iterable<string|int, StoreRequest>  $requests
     * @param  callable(string|int, RenditionSet|ImgoptException): void  $done
     */
    public function storeMany(iterable $requests, int $concurrency, callable $done): void
    {
        $this->store->storeMany($requests, $concurrency, $done);
    }

    /**
     * Whether an upload of this many bytes fits the service's MAX_UPLOAD_MB (imgopt.max_upload_mb), with room
     * in the request body for the form's other fields.
     */
    public function fitsUploadLimit(int $bytes): bool
    {
        $megabytes = (int) $this->config['max_upload_mb'];

        return $megabytes <= 0 || $bytes <= $megabytes * 1024 * 1024 - 64 * 1024;
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
        return Upload::from($file, $this->store->storage(), $disk ?? $this->config['source_disk']);
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

    private function variantFields(SetDefinition $set): array
    {
        $list = [];
        foreach ($set->variants as $name => $fields) {
            $list[] = ['name' => (string) $name] + array_filter($fields, fn ($value) => $value !== null);
        }

        return $this->fields($set->defaults) + ['variants' => json_encode($list, JSON_THROW_ON_ERROR)];
    }

    /**
     * Form fields as imgopt reads them: strings, booleans as true/false, lists comma-joined, nulls left out;
     * an Upload is sent as a file part of that name.
     */
    private function fields(array $options): array
    {
        return array_map(
            fn ($value) => match (true) {
                $value instanceof Upload => $value, // a file part: the watermark
                is_bool($value) => $value ? 'true' : 'false',
                is_array($value) => implode(',', $value),
                default => (string) $value,
            },
            array_filter($options, fn ($value) => $value !== null),
        );
    }
}
