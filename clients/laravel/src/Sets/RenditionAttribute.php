<?php

namespace Imgopt\Laravel\Sets;

/**
 * One attribute of a model that keeps a RenditionSet, from the model's imgoptRenditions(): which attribute
 * holds the upload's path (`source`), on which disk (`source_disk`), which set to make, where to store it
 * (`disk`), and where to record a failure's error code (`error`, default "{attribute}_error"; false: nowhere).
 */
class RenditionAttribute
{
    public function __construct(
        public string $attribute,
        public string $source,
        public string $set = 'default',
        public ?string $sourceDisk = null,
        public ?string $disk = null,
        public ?string $errorAttribute = null,
    ) {
    }

    public static function fromArray(string $attribute, array $definition): self
    {
        $error = $definition['error'] ?? "{$attribute}_error";

        return new self(
            $attribute,
            (string) ($definition['source'] ?? "{$attribute}_path"),
            (string) ($definition['set'] ?? 'default'),
            $definition['source_disk'] ?? null,
            $definition['disk'] ?? null,
            $error === false ? null : (string) $error,
        );
    }
}
