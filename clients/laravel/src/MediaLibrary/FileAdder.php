<?php

namespace Imgopt\Laravel\MediaLibrary;

use Spatie\MediaLibrary\Conversions\ImageGenerators\Image as MediaLibraryImage;
use Spatie\MediaLibrary\HasMedia;
use Spatie\MediaLibrary\MediaCollections\FileAdder as MediaLibraryFileAdder;
use Spatie\MediaLibrary\MediaCollections\Models\Media;

/**
 * medialibrary's FileAdder, which queues an upload's responsive images only for the formats its own image
 * generator lists (HEIC, HEIF and TIFF only with Imagick): with imgopt the service makes them from any format
 * ImageGenerator lists, so an iPhone's HEIC in a withResponsiveImages() collection gets its srcset too.
 */
class FileAdder extends MediaLibraryFileAdder
{
    protected function processMediaItem(HasMedia $model, Media $media, MediaLibraryFileAdder $fileAdder): void
    {
        parent::processMediaItem($model, $media, $fileAdder);
        if (! $this->generateResponsiveImages || (new MediaLibraryImage)->canConvert($media) || ! (new ImageGenerator)->canConvert($media)) {
            return;
        }
        $class = config('media-library.jobs.generate_responsive_images');
        $job = (new $class($media))
            ->onConnection(config('media-library.queue_connection_name'))
            ->onQueue($this->onQueue ?? config('media-library.queue_name'));
        dispatch($job);
    }
}
