<?php

namespace Imgopt\Laravel\Sets;

use InvalidArgumentException;

/**
 * A named rendition set from config('imgopt.sets'): the /variants request it becomes. `widths` x `formats`
 * expand to "{format}-{width}" renditions (a format may carry fields of its own: its quality); `renditions`
 * adds named ones; `defaults` fill every rendition.
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
        $formats = self::formats($config['formats'] ?? ['webp']);
        $widths = $config['widths'] ?? [];
        if (is_string($widths) && strtolower($widths) === 'auto') {
            $limits = array_intersect_key($config, array_flip(self::AUTO_WIDTH_LIMITS));
            foreach ($formats as $format => $fields) {
                $variants[$format] = ['format' => $format, 'widths' => 'auto'] + $fields + $limits;
            }
            $widths = [];
        }
        foreach ($widths as $width) {
            foreach ($formats as $format => $fields) {
                $variants["{$format}-{$width}"] = ['format' => $format, 'width' => (int) $width] + $fields;
            }
        }
        foreach ($config['renditions'] ?? [] as $renditionName => $fields) {
            $variants[(string) $renditionName] = $fields;
        }

        return new self($name, $variants, $config['defaults'] ?? []);
    }

    /**
     * `formats` as format => the fields its renditions get: a list of names (['avif', 'webp']), or names
     * with fields of their own (['avif' => ['quality' => 50], 'webp' => ['quality' => 80]]), which win over
     * `defaults`.
     *
     * @return array<string, array>
     */
    private static function formats(array $formats): array
    {
        $byFormat = [];
        foreach ($formats as $key => $value) {
            is_int($key) ? $byFormat[(string) $value] = [] : $byFormat[(string) $key] = (array) $value;
        }

        return $byFormat;
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
