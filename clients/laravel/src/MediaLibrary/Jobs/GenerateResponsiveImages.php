<?php

namespace Imgopt\Laravel\MediaLibrary\Jobs;

use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\ResponsiveImages\Jobs\GenerateResponsiveImagesJob;

/** medialibrary's responsive images job (media-library.jobs.generate_responsive_images), waiting for the service. */
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
        return $this->orWaitForTheService(fn () => parent::handle());
    }
}
