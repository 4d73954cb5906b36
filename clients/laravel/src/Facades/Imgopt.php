<?php

namespace Imgopt\Laravel\Facades;

use Illuminate\Support\Facades\Facade;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Testing\ClientFake;

/**
 * @method static \Imgopt\Laravel\Results\Image convert($file, array $options = [], ?string $requestId = null)
 * @method static \Imgopt\Laravel\Results\Variants variants($file, $variants = 'default', array $defaults = [], ?string $requestId = null)
 * @method static \Imgopt\Laravel\Results\Info info($file, ?string $requestId = null)
 * @method static array health()
 * @method static \Imgopt\Laravel\Sets\RenditionSet store($file, string $set = 'default', string $folder = '', ?string $disk = null, ?string $requestId = null)
 * @method static \Imgopt\Laravel\Sets\SetDefinition set(string $name)
 *
 * @see \Imgopt\Laravel\Client
 */
class Imgopt extends Facade
{
    /** Replace the service with local answers for the application's tests (see ClientFake). */
    public static function fake(): ClientFake
    {
        $app = static::getFacadeApplication();
        static::swap($fake = new ClientFake(
            $app->make(\Illuminate\Http\Client\Factory::class),
            $app->make('filesystem'),
            $app['config']->get('imgopt', []),
        ));

        return $fake;
    }

    protected static function getFacadeAccessor(): string
    {
        return Client::class;
    }
}
