<?php

namespace Imgopt\Laravel\MediaLibrary;

use Illuminate\Support\Facades\Storage;
use Illuminate\Support\Str;
use Spatie\MediaLibrary\Conversions\Actions\PerformConversionAction;
use Spatie\MediaLibrary\Conversions\Conversion;
use Spatie\MediaLibrary\Conversions\ConversionCollection;
use Spatie\MediaLibrary\Conversions\FileManipulator as MediaLibraryFileManipulator;
use Spatie\MediaLibrary\Conversions\ImageGenerators\Image;
use Spatie\MediaLibrary\Conversions\ImageGenerators\ImageGeneratorFactory;
use Spatie\MediaLibrary\MediaCollections\Filesystem;
use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\Support\TemporaryDirectory;

/**
 * medialibrary's FileManipulator (resolved from the container by its observer, its jobs and its regenerate
 * command), making all of a media item's conversions, their responsive widths and placeholders with one
 * /variants request (two when a width calculator must see a conversion's bytes first). medialibrary's own
 * steps then run as always (file names, storage, events, responsive-image registration) and take what was
 * made ahead; anything not made ahead (a conversion with a manipulation imgopt cannot make, a PDF or video
 * frame) goes through the driver one /convert at a time.
 */
class FileManipulator extends MediaLibraryFileManipulator
{
    public function performConversions(ConversionCollection $conversions, Media $media, bool $onlyMissing = false): self
    {
        if ($onlyMissing) {
            $conversions = $conversions->reject(fn (Conversion $conversion) => $this->exists($media, $conversion));
        }
        if ($conversions->isEmpty()) {
            return $this;
        }
        $temporaryDirectory = TemporaryDirectory::create();
        try {
            $original = app(Filesystem::class)->copyFromMediaLibrary(
                $media,
                $temporaryDirectory->path(Str::random(32).'.'.$media->extension),
            );
            if (! file_exists($original) || filesize($original) === 0) {
                return $this;
            }
            if (ImageGeneratorFactory::forMedia($media) instanceof Image) { // the upload itself is the image
                app(ItemRenditions::class)->prepareConversions($conversions, $media, $original, $temporaryDirectory->path());
            }
            $conversions->each(fn (Conversion $conversion) => (new PerformConversionAction)->execute($conversion, $media, $original));
        } finally {
            app(RenditionCache::class)->clear();
            $temporaryDirectory->delete();
        }

        return $this;
    }

    /** Whether the conversion's file is on the media's disk (what medialibrary's onlyMissing asks). */
    private function exists(Media $media, Conversion $conversion): bool
    {
        $relativePath = $media->getPath($conversion->getName());
        if ($rootPath = config("filesystems.disks.{$media->disk}.root")) {
            $relativePath = str_replace($rootPath, '', $relativePath);
        }

        return Storage::disk($media->disk)->exists($relativePath);
    }
}
