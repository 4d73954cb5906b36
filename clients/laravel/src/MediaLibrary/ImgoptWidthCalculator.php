<?php

namespace Imgopt\Laravel\MediaLibrary;

use Illuminate\Support\Collection;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Http\Upload;
use Imgopt\Laravel\Sets\SetDefinition;
use Spatie\MediaLibrary\ResponsiveImages\WidthCalculator\FileSizeOptimizedWidthCalculator;
use Spatie\MediaLibrary\ResponsiveImages\WidthCalculator\WidthCalculator;

/**
 * medialibrary's width calculator, with the widths chosen by the service from the bytes real encodes cost
 * (widths=auto) instead of medialibrary's estimate, which assumes bytes grow with area. With ImgoptDriver the
 * widths are chosen in the same /variants that makes them (ItemRenditions), so this only reads them back;
 * on its own it asks the service about the file once. It holds nothing but its limits, so a queued
 * conversion that names it (withWidthCalculator()) serializes.
 */
class ImgoptWidthCalculator implements WidthCalculator
{
    public function __construct(private array $limits = [])
    {
    }

    /**
     * The widths=auto limits: min_width, max_images, bytes_step; what this calculator was not given, from
     * config('imgopt.media_library.widths'). max_images is always sent: it is what a request counts against
     * the service's MAX_VARIANTS.
     */
    public function limits(): array
    {
        return array_replace((array) config('imgopt.media_library.widths'), $this->limits);
    }

    public function calculateWidthsFromFile(string $imagePath): Collection
    {
        $widths = app(RenditionCache::class)->widths((string) sha1_file($imagePath)) ?? $this->ask($imagePath);

        return collect($widths)->sortDesc()->values();
    }

    /** Without the file there are no bytes to measure: medialibrary's own estimate from the file size. */
    public function calculateWidths(int $fileSize, int $width, int $height): Collection
    {
        return (new FileSizeOptimizedWidthCalculator())->calculateWidths($fileSize, $width, $height);
    }

    /** @return list<int> */
    private function ask(string $imagePath): array
    {
        [$client, $cache] = [app(Client::class), app(RenditionCache::class)];
        $image = new RecordedImage($client, $cache);
        $image->load($imagePath);
        $fields = $image->plan()->autoWidthFields($image->plan()->format($imagePath) ?? 'jpeg', ItemRenditions::RESPONSIVE_QUALITY, $this->limits);
        try {
            $made = $client->variants(Upload::fromLocalFile($imagePath), new SetDefinition('widths', ['w' => $fields]));
        } catch (ImgoptException) {
            // medialibrary's own steps then ask for each width, and report what fails.
            return $this->calculateWidths((int) filesize($imagePath), $image->width(), $image->height())->all();
        }
        $widths = array_values(array_map(fn ($rendition) => $rendition->width, $made->renditions));
        $cache->rememberWidths($image->hash(), $widths);

        return $widths;
    }
}
