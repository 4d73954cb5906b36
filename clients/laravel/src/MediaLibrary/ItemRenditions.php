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

    /** The watermark file the item's requests send, once a conversion lays one over. */
    private ?string $watermark = null;

    /**
     * @var array<string, array> name => what is asked (request) and where it is filed (hash, key); a widths=auto
     * entry has its responsive base file and quality instead
     */
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
            if ($image !== null && $image->unsupported($destination) === [] && $this->sharesTheWatermark($image->plan())) {
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
            $this->prepareResponsive($name, $base, $image->plan(), $widthCalculator, (int) $quality);
        }
        $this->send($original);
    }

    /**
     * The original's own responsive images (medialibrary's withResponsiveImages() on the collection).
     *
     * @return iterable<int> their widths
     */
    public function prepareOriginalResponsive(string $original, WidthCalculator $widthCalculator): iterable
    {
        if (! $this->client->fitsUploadLimit((int) filesize($original))) { // the fallback driver makes them, one at a time
            return $widthCalculator->calculateWidthsFromFile($original);
        }
        $image = $this->recorded($original);
        $widths = $this->prepareResponsive('o', $original, $image->plan(), $widthCalculator, self::RESPONSIVE_QUALITY);
        $this->send($original);

        return $widths ?? $widthCalculator->calculateWidthsFromFile($original);
    }

    /**
     * Each responsive width of a base image (a conversion's output, or the original), as medialibrary's
     * ResponsiveImageGenerator records it on that base, made from the original with $framing; and the tiny
     * placeholder, when ours makes them. With ImgoptWidthCalculator the service chooses the widths in the
     * same request (widths=auto), when the framing allows it.
     *
     * @return iterable<int>|null the widths, or null while the service has yet to choose them
     */
    private function prepareResponsive(string $name, string $base, ConversionPlan $framing, WidthCalculator $widthCalculator, int $quality): ?iterable
    {
        $format = ConversionPlan::FORMATS[strtolower(pathinfo($base, PATHINFO_EXTENSION))] ?? 'jpeg';
        $auto = $widthCalculator instanceof ImgoptWidthCalculator
            ? $framing->autoWidthFields($format, $quality, $widthCalculator->limits())
            : null;
        $widths = null;
        if ($auto !== null) {
            $this->wanted["{$name}-auto"] = ['base' => $base, 'quality' => $quality, 'request' => $auto];
        } else {
            $widths = $widthCalculator->calculateWidthsFromFile($base);
            foreach ($widths as $width) {
                [$step, $keyFields] = $this->responsiveStep($base, (int) $width, $quality);
                $request = $framing->scaledFields($step->width(), $step->height(), $keyFields['format'], $quality);
                $this->want("{$name}-w{$width}", $step->hash(), $keyFields, $request);
            }
        }
        if (config('media-library.responsive_images.use_tiny_placeholders') && app(TinyPlaceholderGenerator::class) instanceof TinyPlaceholder) {
            $tiny = $this->recorded($base);
            TinyPlaceholder::record($tiny);
            $keyFields = $tiny->plan()->fields(TinyPlaceholder::FILE);
            $request = $framing->scaledFields($tiny->width(), $tiny->height(), $keyFields['format'], TinyPlaceholder::QUALITY);
            $this->want("{$name}-tiny", $tiny->hash(), $keyFields, $request);
        }

        return $widths;
    }

    /**
     * One responsive width of $base as medialibrary's ResponsiveImageGenerator records it: the step, and the
     * fields its result is filed under.
     *
     * @return array{RecordedImage, array}
     */
    private function responsiveStep(string $base, int $width, int $quality): array
    {
        $step = $this->recorded($base);
        $step->record('optimize');
        $step->record('width', $width, ['preserveAspectRatio']);
        $step->record('quality', $quality);

        return [$step, $step->plan()->fields('responsive.'.pathinfo($base, PATHINFO_EXTENSION))];
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

    /**
     * Whether this conversion's watermark (if any) is the one the item's request sends: the service takes one
     * `watermark` file part a request, so a conversion laying a second image over is made on its own.
     */
    private function sharesTheWatermark(ConversionPlan $plan): bool
    {
        $file = $plan->watermarkFile();
        if ($file === null) {
            return true;
        }
        $this->watermark ??= $file;

        return realpath($this->watermark) === realpath($file);
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
     * Ask for everything wanted, up to MAX_VARIANTS renditions at a time, from $source; file each result. A
     * widths=auto rendition counts as its max_images, and its widths are filed as the calculator's answer for
     * its base. A request that fails throws: the job fails (and waits for the service, Jobs\WaitsForTheService)
     * rather than each conversion asking again on its own while the service sheds load.
     *
     * @return array<string, string> name => contents
     *
     * @throws ImgoptException
     */
    private function send(string $source): array
    {
        $made = [];
        foreach ($this->chunks() as $chunk) {
            $set = new SetDefinition('media', array_map(fn ($wanted) => array_diff_key($wanted['request'], ['watermark' => true]), $chunk));
            $parts = $this->watermark === null ? [] : ['watermark' => Upload::fromLocalFile($this->watermark)];
            $variants = $this->client->variants(Upload::fromLocalFile($source), $set, $parts);
            foreach ($chunk as $name => $wanted) {
                if (isset($wanted['base'])) {
                    $this->fileAutoWidths($name, $wanted, $variants->renditions);

                    continue;
                }
                $made[$name] = $variants->renditions[$name]->contents;
                $this->cache->put($wanted['hash'], $wanted['key'], $made[$name]);
            }
        }
        $this->wanted = [];

        return $made;
    }

    /** @return list<array<string, array>> the wanted renditions in requests of at most MAX_VARIANTS outputs */
    private function chunks(): array
    {
        $chunks = [];
        $chunk = [];
        $outputs = 0;
        foreach ($this->wanted as $name => $wanted) {
            $weight = isset($wanted['base']) ? (int) $wanted['request']['max_images'] : 1;
            if ($chunk !== [] && $outputs + $weight > max(1, $this->maxVariants)) {
                $chunks[] = $chunk;
                [$chunk, $outputs] = [[], 0];
            }
            $chunk[$name] = $wanted;
            $outputs += $weight;
        }

        return $chunk === [] ? $chunks : [...$chunks, $chunk];
    }

    /** The widths the service chose for a base ("{name}-{width}"), filed as medialibrary's steps will ask. */
    private function fileAutoWidths(string $name, array $wanted, array $renditions): void
    {
        $widths = [];
        foreach ($renditions as $renditionName => $rendition) {
            if (preg_match('/^'.preg_quote($name, '/').'-(\d+)$/', (string) $renditionName) === 1) {
                [$step, $keyFields] = $this->responsiveStep($wanted['base'], $rendition->width, $wanted['quality']);
                $this->cache->put($step->hash(), $keyFields, $rendition->contents);
                $widths[] = $rendition->width;
            }
        }
        $this->cache->rememberWidths((string) sha1_file($wanted['base']), $widths);
    }
}
