<?php

namespace Imgopt\Laravel\Sets;

use Illuminate\Contracts\Filesystem\Factory as FilesystemFactory;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Http\Transport;
use Imgopt\Laravel\Results\Variants;
use Throwable;

/**
 * Storing a set: one /variants request per upload (many in flight at once for storeMany), every rendition
 * put on a disk under the configured path pattern, and the manifest that says where each one is.
 */
class SetStore
{
    /** @param  array  $config  config('imgopt'): disk, path, visibility */
    public function __construct(
        private Client $client,
        private FilesystemFactory $storage,
        private array $config,
    ) {
    }

    public function storage(): FilesystemFactory
    {
        return $this->storage;
    }

    /**
     * Make $request's set and store it.
     *
     * @throws ImgoptException
     */
    public function store(StoreRequest $request, ?string $requestId = null): RenditionSet
    {
        $upload = $this->client->upload($request->file, $request->sourceDisk);
        $definition = $this->client->set($request->set);
        $variants = $this->client->variants($upload, $definition, [], $requestId);

        return $this->write($variants, $definition, $upload->hash(), $this->disk($request), $request->folder);
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

    /** @param  array<string|int, StoreRequest>  $batch */
    private function storeBatch(array $batch, callable $done): void
    {
        $prepared = [];
        foreach ($batch as $key => $request) {
            try {
                $prepared[$key] = [$this->client->upload($request->file, $request->sourceDisk), $this->client->set($request->set), Transport::requestId()];
            } catch (ImgoptException $error) {
                $done($key, $error);
            }
        }
        foreach ($this->client->variantsMany($prepared) as $key => $variants) {
            [$upload, $definition] = $prepared[$key];
            try {
                if ($variants instanceof ImgoptException) {
                    throw $variants;
                }
                $done($key, $this->write($variants, $definition, $upload->hash(), $this->disk($batch[$key]), $batch[$key]->folder));
            } catch (ImgoptException $failure) {
                $done($key, $failure);
            }
        }
    }

    private function disk(StoreRequest $request): ?string
    {
        return $request->disk ?? $this->config['disk'];
    }

    /**
     * Write the files and return their manifest. A failed write removes what this call had written, so a
     * set is on the disk whole or not at all.
     */
    public function write(Variants $variants, SetDefinition $set, string $hash, ?string $disk, string $folder): RenditionSet
    {
        $filesystem = $this->storage->disk($disk);
        $stored = [];
        try {
            foreach ($variants->renditions as $rendition) {
                $path = $this->path($folder, $hash, $set->name, $rendition->name, $rendition->width, $rendition->height, $rendition->format);
                $written = $filesystem->put($path, $rendition->contents, [
                    'visibility' => $this->config['visibility'],
                    'mimetype' => $rendition->mediaType,
                    'ContentType' => $rendition->mediaType,
                ]);
                if ($written === false) {
                    throw new ImgoptException("could not write '{$path}' to disk '".($disk ?? 'default')."'", 'storage_failed');
                }
                $stored[$rendition->name] = new StoredRendition(
                    $rendition->name,
                    $rendition->format,
                    $rendition->mediaType,
                    $rendition->width,
                    $rendition->height,
                    strlen($rendition->contents),
                    $path,
                    $filesystem->url($path),
                    $rendition->quality,
                    $rendition->score,
                    $rendition->region,
                );
            }
        } catch (Throwable $error) {
            $filesystem->delete(array_values(array_map(fn (StoredRendition $r) => $r->path, $stored)));

            throw $error instanceof ImgoptException
                ? $error
                : new ImgoptException('could not store the renditions: '.$error->getMessage(), 'storage_failed', null, $variants->requestId, null, $error);
        }

        return new RenditionSet(
            $set->name,
            $disk,
            $variants->source,
            $variants->placeholder,
            $stored,
            $hash,
            $variants->requestId,
            gmdate('Y-m-d\TH:i:s\Z'),
        );
    }

    public function path(string $folder, string $hash, string $set, string $name, int $width, int $height, string $format): string
    {
        $path = strtr((string) $this->config['path'], [
            '{folder}' => trim($folder, '/'),
            '{hash}' => $hash,
            '{set}' => $set,
            '{name}' => $name,
            '{width}' => (string) $width,
            '{height}' => (string) $height,
            '{format}' => $format,
        ]);

        return ltrim((string) preg_replace('#/{2,}#', '/', $path), '/');
    }
}
