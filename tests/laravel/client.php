<?php

// The package's Client (clients/laravel) without an application: Laravel's HTTP client from Debian over
// Guzzle, for tests/laravel/convert.php and variants.php, which call the live service with it.

require_once __DIR__.'/../../clients/laravel/tests/bootstrap.php';

use Illuminate\Http\Client\Factory;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Tests\NoStorage;

function imgopt_client(string $url, string $token): Client
{
    return new Client(new Factory(), new NoStorage(), ['url' => $url, 'token' => $token, 'retries' => 3, 'backoff' => [250]]);
}

function imgopt_error(ImgoptException $error): array
{
    return [
        'ok' => false,
        'status' => $error->status,
        'code' => $error->errorCode,
        'message' => $error->getMessage(),
        'request_id' => $error->requestId,
        'permanent' => ! $error->isRetryable(),
    ];
}
