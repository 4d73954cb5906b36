<?php

namespace Imgopt\Laravel\Results;

/**
 * What a page paints while the image loads: a mean colour, BlurHash and ThumbHash strings for front ends
 * that decode them, and a tiny WebP as a data: URI that any browser paints (next/image's blurDataURL).
 */
class Placeholder
{
    public function __construct(
        public string $color,
        public ?string $blurhash = null,
        public ?string $thumbhash = null,
        public ?string $dataUri = null,
    ) {
    }

    public static function fromArray(array $placeholder): self
    {
        return new self(
            (string) $placeholder['color'],
            $placeholder['blurhash'] ?? null,
            $placeholder['thumbhash'] ?? null,
            $placeholder['data_uri'] ?? null,
        );
    }

    public function toArray(): array
    {
        return [
            'color' => $this->color,
            'blurhash' => $this->blurhash,
            'thumbhash' => $this->thumbhash,
            'data_uri' => $this->dataUri,
        ];
    }
}
