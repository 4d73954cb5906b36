<?php

namespace Imgopt\Laravel\Sets;

/** One rendition as stored: where it is (path on the set's disk, and its URL) and what it is. */
class StoredRendition
{
    public function __construct(
        public string $name,
        public string $format,
        public string $mediaType,
        public int $width,
        public int $height,
        public int $bytes,
        public string $path,
        public string $url,
        public ?int $quality = null,
        public ?float $score = null,
        public ?array $region = null,
    ) {
    }

    public static function fromArray(array $item): self
    {
        return new self(
            (string) $item['name'],
            (string) $item['format'],
            (string) $item['media_type'],
            (int) $item['width'],
            (int) $item['height'],
            (int) $item['bytes'],
            (string) $item['path'],
            (string) $item['url'],
            isset($item['quality']) ? (int) $item['quality'] : null,
            isset($item['score']) ? (float) $item['score'] : null,
            $item['region'] ?? null,
        );
    }

    public function toArray(): array
    {
        return [
            'name' => $this->name,
            'format' => $this->format,
            'media_type' => $this->mediaType,
            'width' => $this->width,
            'height' => $this->height,
            'bytes' => $this->bytes,
            'path' => $this->path,
            'url' => $this->url,
            'quality' => $this->quality,
            'score' => $this->score,
            'region' => $this->region,
        ];
    }
}
