<?php

namespace Imgopt\Laravel\MediaLibrary;

use Imgopt\Laravel\Client;
use Spatie\MediaLibrary\ResponsiveImages\TinyPlaceholderGenerator\TinyPlaceholderGenerator;

/**
 * medialibrary's tiny placeholder (the JPEG it wraps in a blurred SVG for responsive images), made by the
 * service: a 32 px wide JPEG. medialibrary's own Blurred generator also blurs it in PHP, which imgopt
 * does not do; the SVG's blur filter hides the difference.
 */
class TinyPlaceholder implements TinyPlaceholderGenerator
{
    public const WIDTH = 32;

    public const QUALITY = 70;

    /** Where it is written, as far as its format goes. */
    public const FILE = 'tiny.jpg';

    public function __construct(
        private Client $client,
        private RenditionCache $cache,
    ) {
    }

    public function generateTinyPlaceholder(string $sourceImage, string $tinyImageDestination): void
    {
        // Through the driver, so that a source imgopt cannot take (over MAX_UPLOAD_MB) goes to the fallback driver.
        $image = new RecordedImage($this->client, $this->cache);
        (new ImgoptDriver($image))->loadFile($sourceImage)->width(self::WIDTH)->quality(self::QUALITY)->format('jpg')->save($tinyImageDestination);
    }

    /** The placeholder's manipulations, as the driver records them. */
    public static function calls(): array
    {
        return [['width', self::WIDTH, ['preserveAspectRatio']], ['quality', self::QUALITY], ['format', 'jpg']];
    }
}
