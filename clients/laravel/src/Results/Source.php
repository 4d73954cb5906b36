<?php

namespace Imgopt\Laravel\Results;

/** The upload as the service read it from its bytes: format, upright size, frames, transparency. */
class Source
{
    public function __construct(
        public string $format,
        public int $width,
        public int $height,
        public int $frames = 1,
        public bool $animated = false,
        public bool $hasAlpha = false,
    ) {
    }

    public static function fromArray(array $source): self
    {
        return new self(
            (string) $source['format'],
            (int) $source['width'],
            (int) $source['height'],
            (int) ($source['frames'] ?? 1),
            (bool) ($source['animated'] ?? false),
            (bool) ($source['has_alpha'] ?? false),
        );
    }

    public function toArray(): array
    {
        return [
            'format' => $this->format,
            'width' => $this->width,
            'height' => $this->height,
            'frames' => $this->frames,
            'animated' => $this->animated,
            'has_alpha' => $this->hasAlpha,
        ];
    }
}
