<?php

namespace Imgopt\Laravel\MediaLibrary;

use Illuminate\Support\Facades\Log;
use Illuminate\Support\Facades\Storage;
use Illuminate\Support\Str;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Spatie\MediaLibrary\Conversions\Actions\PerformConversionAction;
use Spatie\MediaLibrary\Conversions\Conversion;
use Spatie\MediaLibrary\Conversions\ConversionCollection;
use Spatie\MediaLibrary\Conversions\FileManipulator as MediaLibraryFileManipulator;
use Spatie\MediaLibrary\Conversions\ImageGenerators\Image;
use Spatie\MediaLibrary\Conversions\ImageGenerators\ImageGeneratorFactory;
use Spatie\MediaLibrary\MediaCollections\Filesystem;
use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\ResponsiveImages\WidthCalculator\WidthCalculator;
use Spatie\MediaLibrary\Support\TemporaryDirectory;

/**
 * medialibrary's FileManipulator (resolved from the container by its observer, its jobs and its regenerate
 * command), making all of a media item's conversions, their responsive widths and placeholders with one
 * /variants request (two when a width calculator of the app's own must see a conversion's bytes first), and
 * in the queued job the original's srcset in that same request. medialibrary's own
 * steps then run as always (file names, storage, events, responsive-image registration) and take what was
 * made ahead; anything not made ahead (a conversion with a manipulation imgopt cannot make, a PDF or video
 * frame) goes through the driver one /convert at a time.
 *
 * What is made as the upload is added (nonQueued conversions) never fails addMedia because of the service:
 * when it is down, overloaded or refusing the token, those conversions join the queue (Jobs\PerformConversions
 * waits there for the service), so the media row, its queued conversions and its responsive images all exist
 * and are made once the service answers.
 */
class FileManipulator extends MediaLibraryFileManipulator
{
    /**
     * The custom property that tells the original's responsive-images job its work was done by the
     * conversions' request (Jobs\GenerateResponsiveImages skips once, and forgets it).
     */
    public const SRCSET_MADE_AHEAD = 'imgopt_srcset_made_ahead';

    /** Whether this is the queued job's run, which makes the original's srcset in the same request. */
    private bool $queued = false;

    /** The queued job's conversions: with the original's srcset in the same request while it is still to make. */
    public function performQueuedConversions(ConversionCollection $conversions, Media $media, bool $onlyMissing = false): self
    {
        $this->queued = true;
        try {
            return $this->performConversions($conversions, $media, $onlyMissing);
        } finally {
            $this->queued = false;
        }
    }

    public function createDerivedFiles(
        Media $media,
        array $onlyConversionNames = [],
        bool $onlyMissing = false,
        bool $withResponsiveImages = false,
        bool $queueAll = false,
    ): void {
        try {
            parent::createDerivedFiles($media, $onlyConversionNames, $onlyMissing, $withResponsiveImages, $queueAll);
        } catch (ImgoptException $error) {
            if ($queueAll || ! $error->isTheServices()) {
                throw $error;
            }
            Log::warning('imgopt could not make the conversions now; they are queued', [
                'media_id' => $media->getKey(), 'code' => $error->errorCode, 'status' => $error->status, 'request_id' => $error->requestId,
            ]);
            parent::createDerivedFiles($media, $onlyConversionNames, true, $withResponsiveImages, queueAll: true);
        }
    }

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
            $srcset = null;
            if (ImageGeneratorFactory::forMedia($media) instanceof Image) { // the upload itself is the image
                $srcset = $this->originalsSrcsetToMake($media);
                app(ItemRenditions::class)->prepareConversions($conversions, $media, $original, $temporaryDirectory->path(), $srcset);
            }
            $conversions->each(fn (Conversion $conversion) => (new PerformConversionAction)->execute($conversion, $media, $original));
            if ($srcset !== null) {
                app(ResponsiveImageGenerator::class)->fromLocalCopy($media, $original, $temporaryDirectory);
                $media->setCustomProperty(self::SRCSET_MADE_AHEAD, true)->save();
            }
        } finally {
            app(RenditionCache::class)->clear();
            $temporaryDirectory->delete();
        }

        return $this;
    }

    /**
     * The width calculator of the original's srcset when this run should make it: in the queued job, for a
     * collection with withResponsiveImages() whose item has none yet (its own job then finds it made).
     */
    private function originalsSrcsetToMake(Media $media): ?WidthCalculator
    {
        $collection = $this->queued ? $media->model?->getMediaCollection($media->collection_name) : null;
        if (! ($collection?->generateResponsiveImages ?? false) || $media->hasResponsiveImages()) {
            return null;
        }

        return app(WidthCalculator::class);
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
