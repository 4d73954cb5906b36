<?php

namespace Imgopt\Laravel\MediaLibrary;

use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Http\Upload;
use Imgopt\Laravel\Sets\SetDefinition;
use Spatie\MediaLibrary\Conversions\Conversion;
use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\ResponsiveImages\TinyPlaceholderGenerator\TinyPlaceholderGenerator;
use Spatie\MediaLibrary\ResponsiveImages\WidthCalculator\WidthCalculator;

/**
 * One media item's renditions, asked of the service ahead of medialibrary's own steps, in as few /variants as
 * it allows: every conversion in one, then (when a width calculator needs a conversion's bytes to choose
 * its widths) every responsive width and tiny placeholder in a second. Each result is filed in the
 * RenditionCache under the source and fields medialibrary's step will record, so that step takes it
 * instead of asking again. Responsive widths are made from the original with the conversion's framing, not
 * from the conversion's own lossy file.
 */
class ItemRenditions
{
    /** What medialibrary makes responsive images at when the conversion sets no quality. */
    public const RESPONSIVE_QUALITY = 90;

    /** @var array<string, array{hash: string, key: array, request: array}> name => where it is filed, what is asked */
    private array $wanted = [];

    public function __construct(
        private Client $client,
        private RenditionCache $cache,
        private int $maxVariants,
    ) {
    }

    /**
     * Every conversion of $media that imgopt can make, and their responsive images, made from $original (a
     * local copy of the upload) and filed for medialibrary to take.
     *
     * @param  iterable<Conversion>  $conversions
     */
    public function prepareConversions(iterable $conversions, Media $media, string $original, string $workDirectory): void
    {
        $planned = [];
        foreach ($conversions as $index => $conversion) {
            $image = $this->conversionImage($conversion, $media, $original);
            $destination = "{$workDirectory}/conversion-{$index}.{$media->extension}";
            if ($image !== null && $image->unsupported($destination) === []) {
                $planned["c{$index}"] = [$conversion, $image, $image->plan()->fields($destination)];
                $this->want("c{$index}", $image->hash(), $planned["c{$index}"][2], $planned["c{$index}"][2]);
            }
        }
        $made = $this->send($original);
        foreach ($planned as $name => [$conversion, $image, $fields]) {
            if (! $conversion->shouldGenerateResponsiveImages() || ! isset($made[$name])) {
                continue;
            }
            $base = "{$workDirectory}/{$name}.".$conversion->getResultExtension($media->extension);
            file_put_contents($base, $made[$name]);
            $widthCalculator = $conversion->getWidthCalculator() ?? app(WidthCalculator::class);
            $quality = $conversion->getManipulations()->getFirstManipulationArgument('quality') ?: self::RESPONSIVE_QUALITY;
            $this->prepareResponsive($name, $base, $image->plan(), $widthCalculator->calculateWidthsFromFile($base), (int) $quality);
        }
        $this->send($original);
    }

    /** The original's own responsive images (medialibrary's withResponsiveImages() on the collection). */
    public function prepareOriginalResponsive(string $original, iterable $widths): void
    {
        $image = $this->recorded($original);
        $this->prepareResponsive('o', $original, $image->plan(), $widths, self::RESPONSIVE_QUALITY);
        $this->send($original);
    }

    /**
     * Each responsive width of a base image (a conversion's output, or the original), as medialibrary's
     * ResponsiveImageGenerator records it on that base, made from the original with $framing; and the tiny
     * placeholder, when ours makes them.
     */
    private function prepareResponsive(string $name, string $base, ConversionPlan $framing, iterable $widths, int $quality): void
    {
        $extension = pathinfo($base, PATHINFO_EXTENSION);
        foreach ($widths as $width) {
            $step = $this->recorded($base);
            $step->record('optimize');
            $step->record('width', (int) $width, ['preserveAspectRatio']);
            $step->record('quality', $quality);
            $keyFields = $step->plan()->fields("responsive.{$extension}");
            $request = $framing->scaledFields($step->width(), $step->height(), $keyFields['format'], $quality);
            $this->want("{$name}-w{$width}", $step->hash(), $keyFields, $request);
        }
        if (config('media-library.responsive_images.use_tiny_placeholders') && app(TinyPlaceholderGenerator::class) instanceof TinyPlaceholder) {
            $tiny = $this->recorded($base);
            TinyPlaceholder::record($tiny);
            $keyFields = $tiny->plan()->fields(TinyPlaceholder::FILE);
            $request = $framing->scaledFields($tiny->width(), $tiny->height(), $keyFields['format'], TinyPlaceholder::QUALITY);
            $this->want("{$name}-tiny", $tiny->hash(), $keyFields, $request);
        }
    }

    /** The conversion recorded as medialibrary's PerformManipulationsAction will drive it; null: nothing to make. */
    private function conversionImage(Conversion $conversion, Media $media, string $original): ?RecordedImage
    {
        if ($conversion->getManipulations()->isEmpty()) {
            return null;
        }
        if ($conversion->shouldKeepOriginalImageFormat() && in_array($media->extension, ['jpg', 'jpeg', 'pjpg', 'png', 'gif', 'webp'], true)) {
            $conversion->format($media->extension);
        }
        $image = $this->recorded($original);
        $image->record('format', 'jpg');
        $conversion->getManipulations()->apply(ImgoptDriver::over($image));

        return $image;
    }

    private function recorded(string $path): RecordedImage
    {
        $image = new RecordedImage($this->client, $this->cache);
        $image->load($path);

        return $image;
    }

    private function want(string $name, string $hash, array $keyFields, array $request): void
    {
        $this->wanted[$name] = ['hash' => $hash, 'key' => $keyFields, 'request' => $request];
    }

    /**
     * Ask for everything wanted, MAX_VARIANTS at a time, from $source; file each result. A request that fails
     * files nothing: medialibrary's steps then ask for each on their own, and report what fails.
     *
     * @return array<string, string> name => contents
     */
    private function send(string $source): array
    {
        $made = [];
        foreach (array_chunk($this->wanted, max(1, $this->maxVariants), true) as $chunk) {
            $set = new SetDefinition('media', array_map(fn ($wanted) => $wanted['request'], $chunk));
            try {
                $variants = $this->client->variants(Upload::fromLocalFile($source), $set);
            } catch (ImgoptException) {
                continue;
            }
            foreach ($chunk as $name => $wanted) {
                $made[$name] = $variants->renditions[$name]->contents;
                $this->cache->put($wanted['hash'], $wanted['key'], $made[$name]);
            }
        }
        $this->wanted = [];

        return $made;
    }
}
