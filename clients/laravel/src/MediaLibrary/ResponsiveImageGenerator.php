<?php

namespace Imgopt\Laravel\MediaLibrary;

use Illuminate\Support\Str;
use Spatie\MediaLibrary\MediaCollections\Filesystem;
use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\ResponsiveImages\Events\ResponsiveImagesGeneratedEvent;
use Spatie\MediaLibrary\ResponsiveImages\ResponsiveImageGenerator as MediaLibraryResponsiveImageGenerator;
use Spatie\MediaLibrary\Support\TemporaryDirectory;
use Spatie\TemporaryDirectory\TemporaryDirectory as BaseTemporaryDirectory;

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
            $original = app(Filesystem::class)->copyFromMediaLibrary(
                $media,
                $temporaryDirectory->path(Str::random(16).'.'.self::responsiveExtension((string) $media->extension)),
            );
            $this->fromLocalCopy($media, $original, $temporaryDirectory);
        } finally {
            app(RenditionCache::class)->clear();
            $temporaryDirectory->delete();
        }
    }

    /**
     * The same from a local copy of the upload already at hand (the queued conversions' job has one), in its
     * temporary directory: no second copy from the media library's disk.
     */
    public function fromLocalCopy(Media $media, string $original, BaseTemporaryDirectory $temporaryDirectory): void
    {
        // The base's extension is the responsive images' format: a HEIC or TIFF upload's become JPEG.
        $baseImage = $original;
        $extension = self::responsiveExtension((string) $media->extension);
        if (strtolower(pathinfo($original, PATHINFO_EXTENSION)) !== strtolower($extension)) {
            $baseImage = $temporaryDirectory->path(Str::random(16).'.'.$extension);
            copy($original, $baseImage);
        }
        $widths = app(ItemRenditions::class)->prepareOriginalResponsive($baseImage, $this->widthCalculator);
        $media = $this->cleanResponsiveImages($media);
        foreach ($widths as $width) {
            $this->generateResponsiveImage($media, $baseImage, 'media_library_original', $width, $temporaryDirectory);
        }
        event(new ResponsiveImagesGeneratedEvent($media));
        $this->generateTinyJpg($media, $baseImage, 'media_library_original', $temporaryDirectory);
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
