<?php

// Runs ImgoptClient with Laravel's HTTP client (Debian's php-illuminate-http over php-guzzlehttp-guzzle) and
// prints what happened as one JSON object, for tests/test_laravel.py.
//
//   php tests/laravel/convert.php URL TOKEN FILE '{"format":"webp","width":320}'

require_once 'Illuminate/Http/autoload.php';
require_once 'GuzzleHttp/autoload.php';
require_once __DIR__.'/ImgoptClient.php';

use App\Services\Imgopt\ImgoptClient;
use App\Services\Imgopt\ImgoptException;
use Illuminate\Http\Client\ConnectionException;
use Illuminate\Http\Client\Factory;

[$script, $url, $token, $file, $options] = $argv + [4 => '{}'];

$client = new ImgoptClient(new Factory(), $url, $token);

try {
    $result = $client->convert(file_get_contents($file), json_decode($options, true), 'laravel-test-'.getmypid());
    echo json_encode([
        'ok' => true,
        'content_type' => $result->contentType,
        'width' => $result->width,
        'height' => $result->height,
        'request_id' => $result->requestId,
        'bytes' => strlen($result->body),
        'quality' => $result->quality,
        'score' => $result->score,
        'magic' => bin2hex(substr($result->body, 0, 12)),
    ]), "\n";
} catch (ImgoptException $error) {
    echo json_encode([
        'ok' => false,
        'status' => $error->status,
        'code' => $error->errorCode,
        'message' => $error->getMessage(),
        'request_id' => $error->requestId,
        'permanent' => $error->isPermanent(),
    ]), "\n";
} catch (ConnectionException $error) {
    echo json_encode(['ok' => false, 'connection_error' => $error->getMessage()]), "\n";
    exit(2);
}
