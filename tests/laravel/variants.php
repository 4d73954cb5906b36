<?php

// Runs ImgoptClient::variants() and ::info() with Laravel's HTTP client and prints what came back as one JSON
// object, for tests/test_laravel.py. Rendition bodies are summarised by length, SHA-256 and first bytes.
//
//   php tests/laravel/variants.php URL TOKEN FILE '{"w320": {"width": 320}}' '{"quality": 70}'

require_once 'Illuminate/Http/autoload.php';
require_once 'GuzzleHttp/autoload.php';
require_once __DIR__.'/ImgoptClient.php';

use App\Services\Imgopt\ImgoptClient;
use App\Services\Imgopt\ImgoptException;
use Illuminate\Http\Client\Factory;

[$script, $url, $token, $file, $variants, $defaults] = $argv + [4 => '{}', 5 => '{}'];

$client = new ImgoptClient(new Factory(), $url, $token);
$contents = file_get_contents($file);

try {
    $set = $client->variants($contents, json_decode($variants, true), json_decode($defaults, true), 'laravel-set');
    $info = $client->info($contents);
    $renditions = [];
    foreach ($set->renditions as $name => $rendition) {
        $renditions[] = [
            'name' => $name,
            'format' => $rendition->format,
            'content_type' => $rendition->contentType,
            'width' => $rendition->width,
            'height' => $rendition->height,
            'frames' => $rendition->frames,
            'bytes' => strlen($rendition->body),
            'sha256' => hash('sha256', $rendition->body),
            'magic' => bin2hex(substr($rendition->body, 0, 12)),
            'quality' => $rendition->quality,
            'score' => $rendition->score,
        ];
    }
    echo json_encode([
        'ok' => true,
        'info' => (array) $set->info,
        'info_alone' => (array) $info,
        'renditions' => $renditions,
    ]), "\n";
} catch (ImgoptException $error) {
    echo json_encode([
        'ok' => false,
        'status' => $error->status,
        'code' => $error->errorCode,
        'message' => $error->getMessage(),
        'permanent' => $error->isPermanent(),
    ]), "\n";
}
