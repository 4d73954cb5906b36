<?php

namespace Imgopt\Laravel\Casts;

use Illuminate\Contracts\Database\Eloquent\CastsAttributes;
use Imgopt\Laravel\Sets\RenditionSet;
use InvalidArgumentException;

/** Keeps a RenditionSet manifest in a JSON (or text) column: `protected $casts = ['cover' => AsRenditionSet::class]`. */
class AsRenditionSet implements CastsAttributes
{
    public function get($model, string $key, $value, array $attributes): ?RenditionSet
    {
        if ($value === null || $value === '') {
            return null;
        }
        $manifest = is_array($value) ? $value : json_decode((string) $value, true, 32, JSON_THROW_ON_ERROR);

        return RenditionSet::fromArray($manifest);
    }

    public function set($model, string $key, $value, array $attributes): ?string
    {
        if ($value === null) {
            return null;
        }
        if (is_array($value)) {
            $value = RenditionSet::fromArray($value);
        }
        if (! $value instanceof RenditionSet) {
            throw new InvalidArgumentException("{$key} takes a RenditionSet, an array manifest or null");
        }

        return $value->toJson();
    }
}
