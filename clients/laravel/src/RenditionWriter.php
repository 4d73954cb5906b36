<?php

namespace Imgopt\Laravel;

use Illuminate\Contracts\Filesystem\Factory as FilesystemFactory;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Results\Variants;
use Throwable;

/** Puts every rendition of a /variants answer on a disk, under the configured path pattern. */
class RenditionWriter
{
    public function __construct(
        private FilesystemFactory $storage,
        private string $pathPattern = '{folder}/{hash}/{name}.{format}',
        private string $visibility = 'public',
    ) {
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
                    'visibility' => $this->visibility,
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
        $path = strtr($this->pathPattern, [
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
