<?php

// Runs the package's Client::convert() against the live service and prints what happened as one JSON
// object, for tests/test_laravel.py.
//
//   php tests/laravel/convert.php URL TOKEN FILE '{"format":"webp","width":320}'

require_once __DIR__.'/client.php';

use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Http\Upload;

[$script, $url, $token, $file, $options] = $argv + [4 => '{}'];

try {
    $result = imgopt_client($url, $token)->convert(Upload::fromLocalFile($file), json_decode($options, true), 'laravel-test-'.getmypid());
    echo json_encode([
        'ok' => true,
        'content_type' => $result->mediaType,
        'width' => $result->width,
        'height' => $result->height,
        'request_id' => $result->requestId,
        'bytes' => strlen($result->contents),
        'quality' => $result->quality,
        'score' => $result->score,
        'magic' => bin2hex(substr($result->contents, 0, 12)),
    ]), "\n";
} catch (ImgoptException $error) {
    echo json_encode(imgopt_error($error)), "\n";
    exit($error->status === null ? 2 : 0);
}
