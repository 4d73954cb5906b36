<?php

// Runs imgopt/laravel's medialibrary image (RecordedImage, what its spatie/image driver records on) against the
// live service, for tests/test_laravel.py: each case's calls recorded on FILE and saved, printed with the
// size ConversionPlan predicted. spatie/image is not needed: the calls are given as medialibrary makes them.
//
//   php tests/laravel/recorded.php URL TOKEN FILE '{"thumb": [["fit", "crop", 300, 300]]}' OUTPUT_DIR

require_once __DIR__.'/client.php';

use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\MediaLibrary\RecordedImage;
use Imgopt\Laravel\MediaLibrary\RenditionCache;

[$script, $url, $token, $file, $cases, $output] = $argv;

$client = imgopt_client($url, $token);
$cache = new RenditionCache();
$results = [];
foreach (json_decode($cases, true) as $name => [$extension, $calls]) {
    $image = new RecordedImage($client, $cache);
    $image->load($file);
    foreach ($calls as $call) {
        $image->record(...$call);
    }
    $path = "{$output}/{$name}.{$extension}";
    try {
        $image->save($path);
        $results[$name] = ['ok' => true, 'predicted' => [$image->width(), $image->height()], 'path' => $path];
    } catch (ImgoptException $error) {
        $results[$name] = imgopt_error($error);
    }
}
echo json_encode($results);
