<?php

// Runs the package's Client::variants() and ::info() against the live service and prints what came back as
// one JSON object, for tests/test_laravel.py. Rendition bodies are summarised by length, SHA-256 and first bytes.
//
//   php tests/laravel/variants.php URL TOKEN FILE '{"w320": {"width": 320}}' '{"quality": 70}'

require_once __DIR__.'/client.php';

use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Results\Info;
use Imgopt\Laravel\Http\Upload;

[$script, $url, $token, $file, $variants, $defaults] = $argv + [4 => '{}', 5 => '{}'];

function facts(Info $info): array
{
    return $info->source->toArray() + $info->placeholder->toArray() + ['request_id' => $info->requestId];
}

$client = imgopt_client($url, $token);
$upload = Upload::fromLocalFile($file);

try {
    $set = $client->variants($upload, json_decode($variants, true), json_decode($defaults, true), 'laravel-set');
    $info = $client->info($upload);
    $renditions = [];
    foreach ($set->renditions as $name => $rendition) {
        $renditions[] = [
            'name' => $name,
            'format' => $rendition->format,
            'content_type' => $rendition->mediaType,
            'width' => $rendition->width,
            'height' => $rendition->height,
            'frames' => $rendition->frames,
            'bytes' => strlen($rendition->contents),
            'sha256' => hash('sha256', $rendition->contents),
            'magic' => bin2hex(substr($rendition->contents, 0, 12)),
            'quality' => $rendition->quality,
            'score' => $rendition->score,
            'region' => $rendition->region,
        ];
    }
    echo json_encode(['ok' => true, 'info' => facts($set), 'info_alone' => facts($info), 'renditions' => $renditions]), "\n";
} catch (ImgoptException $error) {
    echo json_encode(imgopt_error($error)), "\n";
}
