<?php

namespace Imgopt\Laravel\Results;

/** One named rendition of a /variants answer, decoded from its base64. */
class Rendition
{
    public function __construct(
        public string $name,
        public string $format,
        public string $mediaType,
        public int $width,
        public int $height,
        public string $contents,
        public int $frames = 1,
        public ?int $quality = null,
        public ?float $score = null,
        /** [left, top, right, bottom] of the upright source it shows, or null for the whole image. */
        public ?array $region = null,
    ) {
    }

    public static function fromArray(array $item): self
    {
        $contents = base64_decode((string) $item['data'], true);

        return new self(
            (string) $item['name'],
            (string) $item['format'],
            (string) $item['media_type'],
            (int) $item['width'],
            (int) $item['height'],
            $contents === false ? '' : $contents,
            (int) ($item['frames'] ?? 1),
            isset($item['quality']) ? (int) $item['quality'] : null,
            isset($item['score']) ? (float) $item['score'] : null,
            $item['region'] ?? null,
        );
    }
}
