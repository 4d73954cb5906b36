<?php

namespace Imgopt\Laravel\MediaLibrary;

use Illuminate\Support\Collection;
use Spatie\MediaLibrary\Conversions\ImageGenerators\Image;

/**
 * medialibrary's image generator for what the service decodes and PHP's GD does not: HEIC/HEIF (iPhone
 * photos), TIFF and BMP as well as JPEG, PNG, GIF, WebP and AVIF, so those uploads get their conversions.
 * The upload goes to the service as it is (the format is read from its bytes there).
 */
class ImageGenerator extends Image
{
    public function supportedExtensions(): Collection
    {
        return collect(['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'heic', 'heif', 'tif', 'tiff', 'bmp']);
    }

    public function supportedMimeTypes(): Collection
    {
        return collect(['image/jpeg', 'image/gif', 'image/png', 'image/webp', 'image/avif', 'image/heic', 'image/heif', 'image/tiff', 'image/bmp', 'image/x-ms-bmp']);
    }
}
