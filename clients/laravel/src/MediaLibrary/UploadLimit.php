<?php

namespace Imgopt\Laravel\MediaLibrary;

use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Spatie\MediaLibrary\Conversions\ConversionCollection;
use Spatie\MediaLibrary\MediaCollections\Models\Media;

/**
 * The service's MAX_UPLOAD_MB (imgopt.max_upload_mb) as the media library meets it. An image over it is made
 * by the fallback driver, when one is set (RecordedImage lists it as something imgopt cannot make); with none,
 * adding it fails with a clear error before its media row is written, instead of leaving a row whose
 * conversions never come.
 */
final class UploadLimit
{
    /**
     * The media model's `creating` listener.
     *
     * @throws ImgoptException upload_too_large
     */
    public static function guard(Media $media): void
    {
        if (app(Client::class)->fitsUploadLimit((int) $media->size) || config('imgopt.media_library.fallback')
            || ! (new ImageGenerator)->canHandleMime((string) $media->mime_type) || ! self::hasWork($media)) {
            return;
        }
        $megabytes = round($media->size / 1024 / 1024, 1);
        throw new ImgoptException(
            "'{$media->file_name}' is {$megabytes} MiB, over the service's MAX_UPLOAD_MB (imgopt.max_upload_mb: "
            .config('imgopt.max_upload_mb').'), so imgopt cannot make its conversions. Raise both, or set '
            ."imgopt.media_library.fallback to 'gd' or 'imagick' to make them in PHP",
            'upload_too_large',
            413,
        );
    }

    private static function hasWork(Media $media): bool
    {
        $collection = $media->model?->getMediaCollection($media->collection_name);

        return ($collection?->generateResponsiveImages ?? false) || ConversionCollection::createForMedia($media)->isNotEmpty();
    }
}
