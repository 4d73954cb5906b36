<?php

namespace Imgopt\Laravel\MediaLibrary;

use Illuminate\Support\Str;
use Spatie\MediaLibrary\MediaCollections\Filesystem;
use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\ResponsiveImages\Events\ResponsiveImagesGeneratedEvent;
use Spatie\MediaLibrary\ResponsiveImages\ResponsiveImageGenerator as MediaLibraryResponsiveImageGenerator;
use Spatie\MediaLibrary\Support\TemporaryDirectory;

/**
 * medialibrary's ResponsiveImageGenerator for the original's responsive images (a collection added with
 * withResponsiveImages()): every width and the placeholder from one /variants, then medialibrary's own steps,
 * which take them. A conversion's responsive images are made ahead by FileManipulator. An upload a browser
 * cannot show (HEIC, TIFF) gets JPEG responsive images.
 */
class ResponsiveImageGenerator extends MediaLibraryResponsiveImageGenerator
{
    public function generateResponsiveImages(Media $media): void
    {
        $temporaryDirectory = TemporaryDirectory::create();
        try {
            $baseImage = app(Filesystem::class)->copyFromMediaLibrary(
                $media,
                $temporaryDirectory->path(Str::random(16).'.'.self::responsiveExtension((string) $media->extension)),
            );
            $widths = app(ItemRenditions::class)->prepareOriginalResponsive($baseImage, $this->widthCalculator);
            $media = $this->cleanResponsiveImages($media);
            foreach ($widths as $width) {
                $this->generateResponsiveImage($media, $baseImage, 'media_library_original', $width, $temporaryDirectory);
            }
            event(new ResponsiveImagesGeneratedEvent($media));
            $this->generateTinyJpg($media, $baseImage, 'media_library_original', $temporaryDirectory);
        } finally {
            app(RenditionCache::class)->clear();
            $temporaryDirectory->delete();
        }
    }

    /**
     * The extension (and so the format) of the original's responsive images: medialibrary keeps the upload's,
     * which a browser cannot show for HEIC, HEIF, TIFF or BMP; those become JPEG, as a camera's photo is.
     */
    public static function responsiveExtension(string $extension): string
    {
        return isset(ConversionPlan::FORMATS[strtolower($extension)]) || strtolower($extension) === 'gif' ? $extension : 'jpg';
    }
}
