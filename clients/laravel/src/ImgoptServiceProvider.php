<?php

namespace Imgopt\Laravel;

use Illuminate\Http\Client\Factory as HttpFactory;
use Illuminate\Support\ServiceProvider;
use Imgopt\Laravel\Console\RegenerateCommand;
use Imgopt\Laravel\MediaLibrary;
use Imgopt\Laravel\View\Components\Picture;

/**
 * Binds the client, publishes the config and views, and registers <x-imgopt-picture> and imgopt:regenerate.
 * Where spatie/laravel-medialibrary's image_driver is imgopt's, its file manipulator, responsive image
 * generator, tiny placeholder and image generator are imgopt's too: that one line of its config is all.
 */
class ImgoptServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        // Laravel's mergeConfigFrom merges the top level only: a published config without queue.tries would
        // lose it. Every default is the package config's, at every level (Client::withDefaults).
        $config = $this->app['config'];
        $config->set('imgopt', Client::withDefaults((array) $config->get('imgopt', [])));

        $this->app->singleton(Client::class, fn ($app) => new Client(
            $app->make(HttpFactory::class),
            $app->make('filesystem'),
            $app['config']->get('imgopt', []),
        ));
        $this->app->alias(Client::class, 'imgopt');
        $this->app->singleton(MediaLibrary\RenditionCache::class);
        $this->app->bind(MediaLibrary\ItemRenditions::class, fn ($app) => new MediaLibrary\ItemRenditions(
            $app->make(Client::class),
            $app->make(MediaLibrary\RenditionCache::class),
            (int) $app['config']->get('imgopt.media_library.max_variants'),
        ));
        $this->app->bind(MediaLibrary\ImgoptWidthCalculator::class, fn ($app) => new MediaLibrary\ImgoptWidthCalculator(
            (array) $app['config']->get('imgopt.media_library.widths', []),
        ));
    }

    public function boot(): void
    {
        $this->bootMediaLibrary();
        $this->loadViewsFrom(__DIR__.'/../resources/views', 'imgopt');
        $this->loadViewComponentsAs('imgopt', [Picture::class]);

        if ($this->app->runningInConsole()) {
            $this->publishes([Client::CONFIG => config_path('imgopt.php')], 'imgopt-config');
            $this->publishes([__DIR__.'/../resources/views' => resource_path('views/vendor/imgopt')], 'imgopt-views');
            $this->commands([RegenerateCommand::class]);
        }
    }

    /** medialibrary on imgopt, when its config names imgopt's driver (and medialibrary is installed). */
    private function bootMediaLibrary(): void
    {
        $config = $this->app['config'];
        if ($config->get('media-library.image_driver') !== MediaLibrary\ImgoptDriver::class
            || ! class_exists(\Spatie\MediaLibrary\Conversions\FileManipulator::class)) {
            return;
        }
        $this->app->bind(\Spatie\MediaLibrary\Conversions\FileManipulator::class, MediaLibrary\FileManipulator::class);
        $this->app->bind(\Spatie\MediaLibrary\ResponsiveImages\ResponsiveImageGenerator::class, MediaLibrary\ResponsiveImageGenerator::class);
        // medialibrary's default placeholder blurs in PHP; a placeholder generator of the app's own is kept.
        $tiny = $config->get('media-library.responsive_images.tiny_placeholder_generator');
        if ($tiny === null || $tiny === \Spatie\MediaLibrary\ResponsiveImages\TinyPlaceholderGenerator\Blurred::class) {
            $this->app->bind(\Spatie\MediaLibrary\ResponsiveImages\TinyPlaceholderGenerator\TinyPlaceholderGenerator::class, MediaLibrary\TinyPlaceholder::class);
        }
        $this->app->bind(\Spatie\MediaLibrary\MediaCollections\FileAdder::class, MediaLibrary\FileAdder::class);
        // Its jobs wait for the service (down, overloaded) instead of failing; an app's own job classes are kept.
        foreach (['perform_conversions' => MediaLibrary\Jobs\PerformConversions::class, 'generate_responsive_images' => MediaLibrary\Jobs\GenerateResponsiveImages::class] as $key => $ours) {
            if (in_array($config->get("media-library.jobs.{$key}"), [null, get_parent_class($ours)], true)) {
                $config->set("media-library.jobs.{$key}", $ours);
            }
        }
        $mediaModel = $config->get('media-library.media_model') ?: \Spatie\MediaLibrary\MediaCollections\Models\Media::class;
        $mediaModel::creating(fn ($media) => MediaLibrary\UploadLimit::guard($media));
        $generators = (array) $config->get('media-library.image_generators', []);
        if (! in_array(MediaLibrary\ImageGenerator::class, $generators, true)) {
            $config->set('media-library.image_generators', [MediaLibrary\ImageGenerator::class, ...$generators]);
        }
    }
}
