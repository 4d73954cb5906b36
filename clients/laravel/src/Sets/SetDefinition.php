<?php

namespace Imgopt\Laravel\Sets;

use InvalidArgumentException;

/**
 * A named rendition set from config('imgopt.sets'): the /variants request it becomes. `widths` x `formats`
 * expand to "{format}-{width}" renditions; `renditions` adds named ones; `defaults` fill every rendition.
 * `'widths' => 'auto'` leaves the widths to the service, which names what it chooses "{format}-{width}" too.
 */
class SetDefinition
{
    /** The set keys that go with 'widths' => 'auto' (docs/api.md, "widths=auto"). */
    public const AUTO_WIDTH_LIMITS = ['min_width', 'max_width', 'max_images', 'bytes_step'];

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
        $widths = $config['widths'] ?? [];
        if (is_string($widths) && strtolower($widths) === 'auto') {
            $limits = array_intersect_key($config, array_flip(self::AUTO_WIDTH_LIMITS));
            foreach ($config['formats'] ?? ['webp'] as $format) {
                $variants[$format] = ['format' => $format, 'widths' => 'auto'] + $limits;
            }
            $widths = [];
        }
        foreach ($widths as $width) {
            foreach ($config['formats'] ?? ['webp'] as $format) {
                $variants["{$format}-{$width}"] = ['format' => $format, 'width' => (int) $width];
            }
        }
        foreach ($config['renditions'] ?? [] as $renditionName => $fields) {
            $variants[(string) $renditionName] = $fields;
        }

        return new self($name, $variants, $config['defaults'] ?? []);
    }

    /**
     * Whether $names, in order, are what this set makes: each fixed rendition's name, and for a widths=auto
     * one at least one "{name}-{width}".
     *
     * @param  list<string>  $names
     */
    public function madeThese(array $names): bool
    {
        foreach ($this->variants as $name => $fields) {
            $name = (string) $name;
            if (strtolower((string) ($fields['widths'] ?? '')) !== 'auto') {
                if (array_shift($names) !== $name) {
                    return false;
                }

                continue;
            }
            $pattern = '/^'.preg_quote($name, '/').'-\d+$/';
            $count = 0;
            while ($names !== [] && preg_match($pattern, $names[0]) === 1) {
                array_shift($names);
                $count++;
            }
            if ($count === 0) {
                return false;
            }
        }

        return $names === [];
    }
}
