<?php

namespace Imgopt\Laravel\MediaLibrary\Jobs;

use Imgopt\Laravel\MediaLibrary\FileManipulator;
use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\ResponsiveImages\Jobs\GenerateResponsiveImagesJob;

/**
 * medialibrary's responsive images job (media-library.jobs.generate_responsive_images), waiting for the
 * service; done at once when the item's queued conversions made the srcset in their own request.
 */
class GenerateResponsiveImages extends GenerateResponsiveImagesJob
{
    use WaitsForTheService;

    public function __construct(Media $media)
    {
        parent::__construct($media);
        $this->waitingForTheService();
    }

    public function handle(): bool
    {
        if ($this->media->getCustomProperty(FileManipulator::SRCSET_MADE_AHEAD)) { // the conversions' request made it
            $this->media->forgetCustomProperty(FileManipulator::SRCSET_MADE_AHEAD)->save();

            return true;
        }

        return $this->orWaitForTheService(fn () => parent::handle());
    }
}
