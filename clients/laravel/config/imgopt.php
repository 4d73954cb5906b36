<?php

return [

    /*
    |--------------------------------------------------------------------------
    | The service
    |--------------------------------------------------------------------------
    |
    | Where imgopt answers (on a private Docker network, its service name) and
    | the token it expects: the service's API_TOKEN. During a token rotation
    | the service accepts both the old and the new one.
    |
    */

    'url' => env('IMGOPT_URL', 'http://imgopt:3000'),

    'token' => env('IMGOPT_TOKEN'),

    /*
    | Seconds to wait for an answer. A 12 MP photo's full set takes one to two
    | seconds on an idle service; the service itself gives up after its own
    | TIMEOUT (60 s by default), so there is no point waiting longer than that.
    */

    'timeout' => (int) env('IMGOPT_TIMEOUT', 60),

    'connect_timeout' => (int) env('IMGOPT_CONNECT_TIMEOUT', 5),

    /*
    | The service's MAX_UPLOAD_MB. The media library checks an image against it
    | before its media row is written: over it, the fallback driver (below)
    | makes its conversions, or, with none, adding it fails saying so.
    */

    'max_upload_mb' => (int) env('IMGOPT_MAX_UPLOAD_MB', 40),

    /*
    | Attempts per request, and the milliseconds to wait before each retry.
    | Only what sending again can fix is retried: a refused or reset
    | connection, 408 (the upload stalled) and 503 (the service is full; its
    | Retry-After is honoured when it is longer). Other errors are final.
    */

    'retries' => (int) env('IMGOPT_RETRIES', 3),

    'backoff' => [250, 1000, 3000],

    /*
    |--------------------------------------------------------------------------
    | Where renditions are stored
    |--------------------------------------------------------------------------
    |
    | `disk` is a disk from config/filesystems.php (null: the default disk).
    | `path` is the pattern of every file's path on it. Placeholders:
    | {folder} (given by the caller; for a model, "{table}/{key}/{attribute}"),
    | {hash} (the first 16 hex digits of the upload's SHA-256, so a new upload
    | never overwrites files a cached page still points at), {set}, {name},
    | {width}, {height} and {format}.
    |
    */

    'disk' => env('IMGOPT_DISK'),

    'path' => '{folder}/{hash}/{name}.{format}',

    'visibility' => 'public',

    /*
    | Where the uploads themselves are read from when a model or
    | Imgopt::store() is given a path that is not a local file (null: the
    | default disk).
    */

    'source_disk' => env('IMGOPT_SOURCE_DISK'),

    /*
    |--------------------------------------------------------------------------
    | The queued job
    |--------------------------------------------------------------------------
    |
    | GenerateRenditions runs on this connection and queue (null: the
    | defaults), with these tries, seconds between tries and timeout.
    |
    */

    'queue' => [
        'connection' => env('IMGOPT_QUEUE_CONNECTION'),
        'name' => env('IMGOPT_QUEUE'),
        'tries' => 3,
        'backoff' => [10, 60, 300],
        'timeout' => 120,
    ],

    /*
    |--------------------------------------------------------------------------
    | Rendition sets
    |--------------------------------------------------------------------------
    |
    | A set is every file one upload becomes, made by one /variants request
    | (at most the service's MAX_VARIANTS, 48, renditions). `widths` x
    | `formats` make the srcset renditions, named "{format}-{width}"; a width
    | larger than the upload is not enlarged, it stays the upload's size.
    | `renditions` adds named ones with any /convert field (a square card,
    | a crop). `defaults` apply to every rendition that does not set a field;
    | a format may carry its own ('formats' => ['avif' => ['quality' => 50],
    | 'webp']), which win over them.
    | 'widths' => 'auto' lets the service choose the widths from what each
    | costs in bytes (with optional min_width, max_width, max_images and
    | bytes_step beside it); they are named "{format}-{width}" all the same.
    |
    */

    'sets' => [

        'default' => [
            'widths' => [320, 768, 1200, 1920],
            'formats' => ['avif', 'webp'],
            'defaults' => ['quality' => 80],
            'renditions' => [],
        ],

        // 'cards' => [
        //     'widths' => [400, 800],
        //     'formats' => ['webp'],
        //     'defaults' => ['height' => 400, 'fit' => 'cover', 'gravity' => 'smart'],
        //     'renditions' => ['square' => ['width' => 200, 'height' => 200, 'fit' => 'cover']],
        // ],

    ],

    /*
    |--------------------------------------------------------------------------
    | spatie/laravel-medialibrary
    |--------------------------------------------------------------------------
    |
    | With 'image_driver' => Imgopt\Laravel\MediaLibrary\ImgoptDriver::class in
    | config/media-library.php, medialibrary's conversions, responsive images
    | and tiny placeholders are made by the service. `fallback` is the
    | spatie/image driver ('gd' or 'imagick') that makes, in PHP, a conversion
    | imgopt cannot (a filter, a watermark, text); null: such a conversion
    | fails, naming what it asked for. `max_variants` is the service's
    | MAX_VARIANTS: renditions asked for in one request. With
    | 'width_calculator' => Imgopt\Laravel\MediaLibrary\ImgoptWidthCalculator::class
    | the service chooses responsive widths from their bytes (widths=auto);
    | `widths` are its limits: min_width, max_images (sent on every such
    | request, and counted against max_variants), bytes_step.
    |
    */

    'media_library' => [
        'fallback' => env('IMGOPT_MEDIA_LIBRARY_FALLBACK'),
        'max_variants' => (int) env('IMGOPT_MAX_VARIANTS', 48),
        'widths' => ['max_images' => 6],
    ],

];
