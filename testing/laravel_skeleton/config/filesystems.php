<?php
return [
    'default' => env('FILESYSTEM_DRIVER', 'public'),
    'disks' => [
        'uploads' => ['driver' => 'local', 'root' => storage_path('app/uploads')],
        'public' => ['driver' => 'local', 'root' => storage_path('app/public'), 'url' => '/storage', 'visibility' => 'public'],
    ],
];
