<?php

namespace Imgopt\Laravel;

use Illuminate\Http\Client\Factory as HttpFactory;
use Illuminate\Support\ServiceProvider;
use Imgopt\Laravel\Console\RegenerateCommand;
use Imgopt\Laravel\View\Components\Picture;

/** Binds the client, publishes the config and views, and registers <x-imgopt-picture> and imgopt:regenerate. */
class ImgoptServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        $this->mergeConfigFrom(Client::CONFIG, 'imgopt');

        $this->app->singleton(Client::class, fn ($app) => new Client(
            $app->make(HttpFactory::class),
            $app->make('filesystem'),
            $app['config']->get('imgopt', []),
        ));
        $this->app->alias(Client::class, 'imgopt');
    }

    public function boot(): void
    {
        $this->loadViewsFrom(__DIR__.'/../resources/views', 'imgopt');
        $this->loadViewComponentsAs('imgopt', [Picture::class]);

        if ($this->app->runningInConsole()) {
            $this->publishes([Client::CONFIG => config_path('imgopt.php')], 'imgopt-config');
            $this->publishes([__DIR__.'/../resources/views' => resource_path('views/vendor/imgopt')], 'imgopt-views');
            $this->commands([RegenerateCommand::class]);
        }
    }
}
