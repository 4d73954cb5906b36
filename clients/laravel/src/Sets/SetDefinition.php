<?php

namespace Imgopt\Laravel\Sets;

use InvalidArgumentException;

/**
 * A named rendition set from config('imgopt.sets'): the /variants request it becomes. `widths` x `formats`
 * expand to "{format}-{width}" renditions; `renditions` adds named ones; `defaults` fill every rendition.
 */
class SetDefinition
{
    /** @param  array<string, array>  $variants  name => /convert fields */
    public function __construct(
        public string $name,
        public array $variants,
        public array $defaults = [],
    ) {
        if ($variants === []) {
            throw new InvalidArgumentException("imgopt set '{$name}' has no renditions");
        }
    }

    public static function fromConfig(string $name, array $config): self
    {
        $variants = [];
        foreach ($config['widths'] ?? [] as $width) {
            foreach ($config['formats'] ?? ['webp'] as $format) {
                $variants["{$format}-{$width}"] = ['format' => $format, 'width' => (int) $width];
            }
        }
        foreach ($config['renditions'] ?? [] as $renditionName => $fields) {
            $variants[(string) $renditionName] = $fields;
        }

        return new self($name, $variants, $config['defaults'] ?? []);
    }

    /** @return list<string> */
    public function names(): array
    {
        return array_keys($this->variants);
    }
}
