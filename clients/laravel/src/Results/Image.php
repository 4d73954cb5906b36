<?php

namespace Imgopt\Laravel\Results;

/** One converted image (/convert): its bytes and what the service says about them. */
class Image
{
    public function __construct(
        public string $contents,
        public string $mediaType,
        public int $width,
        public int $height,
        public ?string $requestId = null,
        /** The encoder quality used (null for PNG and lossless): send it back to get the same bytes. */
        public ?int $quality = null,
        /** With quality 'auto', the SSIMULACRA2 score reached (null otherwise). */
        public ?float $score = null,
    ) {
    }

    /** The file extension of the format: webp, avif, jpeg, png or gif. */
    public function format(): string
    {
        return substr($this->mediaType, strlen('image/'));
    }
}
