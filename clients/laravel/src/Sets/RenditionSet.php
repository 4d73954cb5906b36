<?php

namespace Imgopt\Laravel\Sets;

use Illuminate\Contracts\Filesystem\Factory as FilesystemFactory;
use Illuminate\Contracts\Support\Arrayable;
use Illuminate\Contracts\Support\Jsonable;
use Imgopt\Laravel\Results\Placeholder;
use Imgopt\Laravel\Results\Source;
use JsonSerializable;

/**
 * The manifest of one stored set: the source's facts, its placeholder, and every rendition's path, URL, size
 * and format. It is what a JSON column keeps (AsRenditionSet), what the Blade component renders and what
 * the front ends receive as JSON.
 */
class RenditionSet implements Arrayable, Jsonable, JsonSerializable
{
    /** @param  array<string, StoredRendition>  $renditions  by name, in the set's order */
    public function __construct(
        public string $set,
        public ?string $disk,
        public Source $source,
        public Placeholder $placeholder,
        public array $renditions,
        public ?string $hash = null,
        public ?string $requestId = null,
        public ?string $createdAt = null,
    ) {
    }

    public static function fromArray(array $manifest): self
    {
        $renditions = [];
        foreach ($manifest['renditions'] ?? [] as $item) {
            $renditions[$item['name']] = StoredRendition::fromArray($item);
        }

        return new self(
            (string) $manifest['set'],
            $manifest['disk'] ?? null,
            Source::fromArray($manifest['source']),
            Placeholder::fromArray($manifest['placeholder']),
            $renditions,
            $manifest['hash'] ?? null,
            $manifest['request_id'] ?? null,
            $manifest['created_at'] ?? null,
        );
    }

    /** The upright width of the source, as <img width> wants it. */
    public function width(): int
    {
        return $this->source->width;
    }

    public function height(): int
    {
        return $this->source->height;
    }

    public function has(string $name): bool
    {
        return isset($this->renditions[$name]);
    }

    public function get(string $name): ?StoredRendition
    {
        return $this->renditions[$name] ?? null;
    }

    public function url(string $name): ?string
    {
        return $this->get($name)?->url;
    }

    /** @return list<string> the formats present, in the set's order */
    public function formats(): array
    {
        return array_values(array_unique(array_map(fn (StoredRendition $r) => $r->format, $this->renditions)));
    }

    /**
     * The renditions a srcset can offer for $format: those that show the whole image at its aspect ratio
     * (not crops or cover windows), narrowest first, one per width.
     *
     * @return list<StoredRendition>
     */
    public function responsive(string $format): array
    {
        $byWidth = [];
        foreach ($this->renditions as $rendition) {
            if ($rendition->format === $format && $rendition->region === null && $this->keepsAspect($rendition)) {
                $byWidth[$rendition->width] ??= $rendition;
            }
        }
        ksort($byWidth);

        return array_values($byWidth);
    }

    /** "url 320w, url 768w, ..." for one format, or '' when the set has none of it. */
    public function srcset(string $format): string
    {
        return implode(', ', array_map(
            fn (StoredRendition $r) => "{$r->url} {$r->width}w",
            $this->responsive($format),
        ));
    }

    /**
     * The rendition an <img src> falls back to: a JPEG or PNG if the set has one, else WebP, about 1200 px
     * wide (the narrowest at least that wide, or the widest there is).
     */
    public function fallback(): ?StoredRendition
    {
        foreach (['jpeg', 'png', 'webp', 'avif', 'gif'] as $format) {
            $candidates = $this->responsive($format);
            if ($candidates !== []) {
                foreach ($candidates as $rendition) {
                    if ($rendition->width >= 1200) {
                        return $rendition;
                    }
                }

                return end($candidates);
            }
        }

        return null;
    }

    /** Whether this manifest holds every rendition of $definition and was made from that set. */
    public function isComplete(SetDefinition $definition): bool
    {
        return $this->set === $definition->name
            && $definition->madeThese(array_map('strval', array_keys($this->renditions)));
    }

    /** Whether every file the manifest names is on its disk. */
    public function filesExist(FilesystemFactory $storage): bool
    {
        $disk = $storage->disk($this->disk);
        foreach ($this->renditions as $rendition) {
            if (! $disk->exists($rendition->path)) {
                return false;
            }
        }

        return true;
    }

    /** @return list<string> */
    public function paths(): array
    {
        return array_values(array_map(fn (StoredRendition $r) => $r->path, $this->renditions));
    }

    /**
     * Delete the set's files from its disk. $except keeps paths another manifest still uses (a regeneration
     * of the same upload writes the same paths).
     */
    public function delete(?FilesystemFactory $storage = null, array $except = []): void
    {
        $storage ??= app('filesystem');
        $paths = array_values(array_diff($this->paths(), $except));
        if ($paths !== []) {
            $storage->disk($this->disk)->delete($paths);
        }
    }

    public function toArray(): array
    {
        return [
            'set' => $this->set,
            'disk' => $this->disk,
            'hash' => $this->hash,
            'source' => $this->source->toArray(),
            'placeholder' => $this->placeholder->toArray(),
            'renditions' => array_values(array_map(fn (StoredRendition $r) => $r->toArray(), $this->renditions)),
            'request_id' => $this->requestId,
            'created_at' => $this->createdAt,
        ];
    }

    public function jsonSerialize(): array
    {
        return $this->toArray();
    }

    public function toJson($options = 0): string
    {
        return json_encode($this->toArray(), $options | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
    }

    private function keepsAspect(StoredRendition $rendition): bool
    {
        $expected = $rendition->width * $this->source->height / max(1, $this->source->width);

        return abs($expected - $rendition->height) <= 1.0;
    }
}
