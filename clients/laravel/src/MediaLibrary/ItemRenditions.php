<?php

namespace Imgopt\Laravel\MediaLibrary;

use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Http\Upload;
use Imgopt\Laravel\Sets\SetDefinition;
use Spatie\MediaLibrary\Conversions\Conversion;
use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\ResponsiveImages\TinyPlaceholderGenerator\TinyPlaceholderGenerator;
use Spatie\MediaLibrary\ResponsiveImages\WidthCalculator\FileSizeOptimizedWidthCalculator;
use Spatie\MediaLibrary\ResponsiveImages\WidthCalculator\WidthCalculator;

/**
 * One media item's renditions, asked of the service ahead of medialibrary's own steps in one /variants: every
 * conversion, each one's responsive widths and tiny placeholder, and (in the queued job) the original's own
 * responsive images. Each result is filed in the RenditionCache under the source and fields medialibrary's
 * step will record, so that step takes it instead of asking again. Responsive widths are made from the
 * original with the conversion's framing, not from the conversion's own lossy file.
 *
 * A conversion's responsive widths depend on its file, which this same request makes. Two calculators are
 * known ahead: ImgoptWidthCalculator (the service chooses, widths=auto) and medialibrary's default
 * FileSizeOptimizedWidthCalculator, whose widths are the base width times 0.7^(k/2) whatever the file, only
 * their count following its bytes: every width a file of one byte a pixel could want is asked for, and
 * those its real bytes want are filed. Any other calculator reads the made file, in a second request.
 */
class ItemRenditions
{
    /** What medialibrary makes responsive images at when the conversion sets no quality. */
    public const RESPONSIVE_QUALITY = 90;

    /** The most bytes a pixel of a conversion is expected to cost: what its candidate widths are counted for. */
    private const MOST_BYTES_A_PIXEL = 1.0;

    /**
     * @var array<string, array> name => what is asked (request), and how it is filed: under a hash and fields
     * (hash, key), a made conversion's hash (of, key), or as a widths=auto base (auto, base, quality)
     */
    private array $wanted = [];

    /** @var array<string, string> conversion name => where its file is written once made (a responsive base) */
    private array $bases = [];

    /** The watermark file the item's requests send, once a conversion lays one over. */
    private ?string $watermark = null;

    public function __construct(
        private Client $client,
        private RenditionCache $cache,
        private int $maxVariants,
    ) {
    }

    /**
     * Every conversion of $media that imgopt can make, and their responsive images, made from $original (a
     * local copy of the upload) and filed for medialibrary to take; with $originalResponsive, the original's
     * own responsive images too (named as ResponsiveImageGenerator will ask for them).
     *
     * @param  iterable<Conversion>  $conversions
     */
    public function prepareConversions(iterable $conversions, Media $media, string $original, string $workDirectory, ?WidthCalculator $originalResponsive = null): void
    {
        $later = [];
        foreach ($conversions as $index => $conversion) {
            $image = $this->conversionImage($conversion, $media, $original);
            $destination = "{$workDirectory}/conversion-{$index}.{$media->extension}";
            if ($image === null || $image->unsupported($destination) !== [] || ! $this->sharesTheWatermark($image->plan())) {
                continue;
            }
            $name = "c{$index}";
            $fields = $image->plan()->fields($destination);
            $this->want($name, $image->hash(), $fields, $fields);
            if (! $conversion->shouldGenerateResponsiveImages()) {
                continue;
            }
            $this->bases[$name] = "{$workDirectory}/{$name}.".$conversion->getResultExtension($media->extension);
            $widthCalculator = $conversion->getWidthCalculator() ?? app(WidthCalculator::class);
            $quality = (int) ($conversion->getManipulations()->getFirstManipulationArgument('quality') ?: self::RESPONSIVE_QUALITY);
            if (! $this->prepareAhead($name, $image->plan(), $widthCalculator, $quality)) {
                $later[$name] = [$image->plan(), $widthCalculator, $quality];
            }
        }
        if ($originalResponsive !== null && $this->client->fitsUploadLimit((int) filesize($original))) {
            $this->prepareOriginal($this->recorded($original), $originalResponsive, ResponsiveImageGenerator::responsiveExtension((string) $media->extension));
        }
        $made = $this->send($original);
        foreach ($later as $name => [$framing, $widthCalculator, $quality]) {
            if (isset($made[$name])) {
                $this->prepareResponsive($name, $this->recorded($this->bases[$name]), $framing, $widthCalculator, $quality);
            }
        }
        $this->send($original);
    }

    /**
     * The original's own responsive images (medialibrary's withResponsiveImages() on the collection): their
     * widths, made ahead by the conversions' request when that already made them, else by one of their own.
     *
     * @return iterable<int> their widths
     */
    public function prepareOriginalResponsive(string $original, WidthCalculator $widthCalculator): iterable
    {
        if (! $this->client->fitsUploadLimit((int) filesize($original))) { // the fallback driver makes them, one at a time
            return $widthCalculator->calculateWidthsFromFile($original);
        }
        $base = $this->recorded($original);
        $madeAhead = $this->cache->widths($base->hash());
        if ($madeAhead !== null) {
            return $madeAhead;
        }
        $widths = $this->prepareOriginal($base, $widthCalculator, pathinfo($original, PATHINFO_EXTENSION));
        $this->send($original);

        return $widths ?? $widthCalculator->calculateWidthsFromFile($original);
    }

    /**
     * The original's responsive widths and placeholder, with the original's own framing, and the widths
     * remembered under its hash: what ResponsiveImageGenerator then asks prepareOriginalResponsive for.
     *
     * @return iterable<int>|null the widths, or null while the service has yet to choose them
     */
    private function prepareOriginal(RecordedImage $original, WidthCalculator $widthCalculator, string $extension): ?iterable
    {
        $widths = $this->prepareResponsive('o', $original, $original->plan(), $widthCalculator, self::RESPONSIVE_QUALITY, $extension);
        if ($widths !== null) {
            $this->cache->rememberWidths($original->hash(), array_map('intval', [...$widths]));
        }

        return $widths;
    }

    /**
     * Each responsive width of a base image that exists (the original, or a conversion made by an earlier
     * request), as medialibrary's ResponsiveImageGenerator records it on that base, made from the original
     * with $framing; and the tiny placeholder, when ours makes them. With ImgoptWidthCalculator the service
     * chooses the widths in the same request (widths=auto), when the framing allows it.
     *
     * @return iterable<int>|null the widths, or null while the service has yet to choose them
     */
    private function prepareResponsive(string $name, RecordedImage $base, ConversionPlan $framing, WidthCalculator $widthCalculator, int $quality, ?string $extension = null): ?iterable
    {
        $extension ??= pathinfo((string) $base->path(), PATHINFO_EXTENSION);
        [$hash, $baseWidth, $baseHeight] = [$base->hash(), $base->width(), $base->height()];
        $auto = $widthCalculator instanceof ImgoptWidthCalculator
            ? $framing->autoWidthFields(self::format($extension), $quality, $widthCalculator->limits())
            : null;
        $widths = null;
        if ($auto !== null) {
            $this->wanted["{$name}-auto"] = ['request' => $auto, 'auto' => $hash, 'base' => [$baseWidth, $baseHeight, $extension], 'quality' => $quality];
        } else {
            $widths = $widthCalculator->calculateWidthsFromFile((string) $base->path());
            foreach ($widths as $width) {
                $this->wantWidth("{$name}-w{$width}", $hash, $framing, [$baseWidth, $baseHeight, $extension], (int) $width, $quality);
            }
        }
        $this->wantTiny("{$name}-tiny", $hash, $framing, [$baseWidth, $baseHeight]);

        return $widths;
    }

    /**
     * A conversion's responsive widths and placeholder in the request that makes the conversion, when its
     * calculator's widths are known before its file is (see the class); false: they wait for the file.
     */
    private function prepareAhead(string $name, ConversionPlan $framing, WidthCalculator $widthCalculator, int $quality): bool
    {
        $base = [$framing->width(), $framing->height(), pathinfo($this->bases[$name], PATHINFO_EXTENSION)];
        $of = ['of' => $name];
        if ($widthCalculator instanceof ImgoptWidthCalculator) {
            $auto = $framing->autoWidthFields(self::format($base[2]), $quality, $widthCalculator->limits());
            if ($auto === null) {
                return false;
            }
            $this->wanted["{$name}-auto"] = ['request' => $auto, 'auto' => $of, 'base' => $base, 'quality' => $quality];
        } elseif (get_class($widthCalculator) === FileSizeOptimizedWidthCalculator::class) {
            $mostBytes = (int) ceil($base[0] * $base[1] * self::MOST_BYTES_A_PIXEL);
            $count = count($widthCalculator->calculateWidths($mostBytes, $base[0], $base[1]));
            foreach (self::fileSizeOptimizedWidths($base[0], $count) as $width) {
                $this->wantWidth("{$name}-w{$width}", $of, $framing, $base, $width, $quality);
            }
        } else {
            return false;
        }
        $this->wantTiny("{$name}-tiny", $of, $framing, [$base[0], $base[1]]);

        return true;
    }

    /**
     * One responsive width of a base ($base: its width, height and extension) as medialibrary's
     * ResponsiveImageGenerator records it (optimize, width, quality), filed under the base's hash.
     *
     * @param  string|array{of: string}  $hash
     */
    private function wantWidth(string $name, string|array $hash, ConversionPlan $framing, array $base, int $width, int $quality): void
    {
        $step = self::responsiveStep($base, $width, $quality);
        $keyFields = $step->fields('responsive.'.$base[2]);
        $this->want($name, $hash, $keyFields, $framing->scaledFields($step->width(), $step->height(), $keyFields['format'], $quality));
    }

    /** @param  string|array{of: string}  $hash */
    private function wantTiny(string $name, string|array $hash, ConversionPlan $framing, array $base): void
    {
        if (! config('media-library.responsive_images.use_tiny_placeholders') || ! app(TinyPlaceholderGenerator::class) instanceof TinyPlaceholder) {
            return;
        }
        $tiny = ConversionPlan::of($base[0], $base[1], TinyPlaceholder::calls());
        $keyFields = $tiny->fields(TinyPlaceholder::FILE);
        $this->want($name, $hash, $keyFields, $framing->scaledFields($tiny->width(), $tiny->height(), $keyFields['format'], TinyPlaceholder::QUALITY));
    }

    /**
     * FileSizeOptimizedWidthCalculator's first $count widths of a base $width wide: floor(width x 0.7^(k/2)),
     * which it reaches through a product of floats that lands a pixel lower for some file sizes where the
     * value is a whole number; both are asked for then.
     *
     * @return list<int>
     */
    private static function fileSizeOptimizedWidths(int $width, int $count): array
    {
        $widths = [];
        for ($step = 0; $step < $count; $step++) {
            $exact = $width * 0.7 ** ($step / 2);
            $widths[] = (int) floor($exact + 1e-9);
            if ($step > 0 && abs($exact - round($exact)) < 1e-6) {
                $widths[] = (int) round($exact) - 1;
            }
        }

        return array_values(array_unique($widths));
    }

    /** The plan of one responsive width of a base of this size, as ResponsiveImageGenerator records it. */
    private static function responsiveStep(array $base, int $width, int $quality): ConversionPlan
    {
        return ConversionPlan::of($base[0], $base[1], [['optimize'], ['width', $width, ['preserveAspectRatio']], ['quality', $quality]]);
    }

    private static function format(string $extension): string
    {
        return ConversionPlan::FORMATS[strtolower($extension)] ?? 'jpeg';
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

    /** @param  string|array{of: string}  $hash  the source's hash, or the conversion whose made file is the base */
    private function want(string $name, string|array $hash, array $keyFields, array $request): void
    {
        $this->wanted[$name] = ['hash' => $hash, 'key' => $keyFields, 'request' => $request];
    }

    /**
     * Ask for everything wanted, up to MAX_VARIANTS renditions at a time, from $source; write each made
     * responsive base, then file each result. A widths=auto rendition counts as its max_images, and its widths
     * are filed as the calculator's answer for its base. A request that fails throws: the job fails (and
     * waits for the service, Jobs\WaitsForTheService) rather than each conversion asking again on its own
     * while the service sheds load.
     *
     * @return array<string, string> name => contents
     *
     * @throws ImgoptException
     */
    private function send(string $source): array
    {
        $renditions = [];
        foreach ($this->chunks() as $chunk) {
            $set = new SetDefinition('media', array_map(fn ($wanted) => array_diff_key($wanted['request'], ['watermark' => true]), $chunk));
            $parts = $this->watermark === null ? [] : ['watermark' => Upload::fromLocalFile($this->watermark)];
            $renditions += $this->client->variants(Upload::fromLocalFile($source), $set, $parts)->renditions;
        }
        $made = [];
        foreach ($this->wanted as $name => $wanted) {
            if (! isset($wanted['auto'])) {
                $made[$name] = $renditions[$name]->contents;
            }
        }
        foreach (array_intersect_key($this->bases, $made) as $name => $base) {
            file_put_contents($base, $made[$name]);
        }
        $hashOf = fn (string|array $hash) => is_array($hash) ? sha1($made[$hash['of']]) : $hash;
        foreach ($this->wanted as $name => $wanted) {
            isset($wanted['auto'])
                ? $this->fileAutoWidths($name, $hashOf($wanted['auto']), $wanted, $renditions)
                : $this->cache->put($hashOf($wanted['hash']), $wanted['key'], $made[$name]);
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
            $weight = isset($wanted['auto']) ? (int) $wanted['request']['max_images'] : 1;
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
    private function fileAutoWidths(string $name, string $baseHash, array $wanted, array $renditions): void
    {
        $widths = [];
        foreach ($renditions as $renditionName => $rendition) {
            if (preg_match('/^'.preg_quote($name, '/').'-(\d+)$/', (string) $renditionName) === 1) {
                $keyFields = self::responsiveStep($wanted['base'], $rendition->width, $wanted['quality'])->fields('responsive.'.$wanted['base'][2]);
                $this->cache->put($baseHash, $keyFields, $rendition->contents);
                $widths[] = $rendition->width;
            }
        }
        $this->cache->rememberWidths($baseHash, $widths);
    }
}
