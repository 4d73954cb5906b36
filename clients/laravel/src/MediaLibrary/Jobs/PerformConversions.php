<?php

namespace Imgopt\Laravel\MediaLibrary\Jobs;

use Imgopt\Laravel\MediaLibrary\FileManipulator as ImgoptFileManipulator;
use Spatie\MediaLibrary\Conversions\ConversionCollection;
use Spatie\MediaLibrary\Conversions\FileManipulator;
use Spatie\MediaLibrary\Conversions\Jobs\PerformConversionsJob;
use Spatie\MediaLibrary\MediaCollections\Models\Media;

/** medialibrary's conversions job (media-library.jobs.perform_conversions), waiting for the service. */
class PerformConversions extends PerformConversionsJob
{
    use WaitsForTheService;

    public function __construct(ConversionCollection $conversions, Media $media, bool $onlyMissing = false)
    {
        parent::__construct($conversions, $media, $onlyMissing);
        $this->waitingForTheService();
    }

    public function handle(FileManipulator $fileManipulator): bool
    {
        // A retry makes what is still missing: a conversion stored by an earlier attempt is not made again.
        $onlyMissing = $this->onlyMissing || $this->attempts() > 1;

        return $this->orWaitForTheService(fn () => (bool) ($fileManipulator instanceof ImgoptFileManipulator
            ? $fileManipulator->performQueuedConversions($this->conversions, $this->media, $onlyMissing)
            : $fileManipulator->performConversions($this->conversions, $this->media, $onlyMissing)));
    }
}
