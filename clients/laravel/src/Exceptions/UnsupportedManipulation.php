<?php

namespace Imgopt\Laravel\Exceptions;

/**
 * A spatie/image manipulation imgopt cannot make here (a watermark, text), with no fallback
 * driver configured: the conversion fails, naming it, rather than coming out different from what was asked.
 */
class UnsupportedManipulation extends ImgoptException
{
    /** @param  list<string>  $manipulations */
    public static function named(array $manipulations, string $path): self
    {
        $names = implode(', ', array_unique($manipulations));

        return new self(
            "imgopt cannot make {$names} (converting {$path}); remove it from the conversion, or set "
            ."imgopt.media_library.fallback to 'gd' or 'imagick' to make such conversions in PHP",
            'unsupported_manipulation',
        );
    }
}
