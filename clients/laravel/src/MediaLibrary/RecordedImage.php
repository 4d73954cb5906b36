<?php

namespace Imgopt\Laravel\MediaLibrary;

use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Exceptions\UnsupportedManipulation;
use Imgopt\Laravel\Http\Upload;

/**
 * One image as spatie/image drives it: loaded from a path, manipulated, saved. The manipulations are
 * recorded, not performed: save() makes the whole list in one /convert (or takes what a /variants made
 * ahead, RenditionCache). The source's size is read from the file's header, never its pixels; for a format
 * PHP cannot read a header of (HEIC), the service's /info says it.
 */
class RecordedImage
{
    /** Sources that may hold transparency, by getimagesize's MIME type (null: PHP could not read it). */
    private const MAY_HAVE_ALPHA = ['image/png', 'image/webp', 'image/avif', 'image/gif', 'image/tiff', null];

    /** @var list<array> [method, ...arguments], enums as their values */
    private array $calls = [];

    private ?string $path = null;

    private ?string $hash = null;

    private int $sourceWidth = 0;

    private int $sourceHeight = 0;

    private ?string $sourceMime = null;

    public function __construct(
        private Client $client,
        private RenditionCache $cache,
    ) {
    }

    /** @throws ImgoptException when the file is not an image the service reads */
    public function load(string $path): void
    {
        $this->path = $path;
        $this->hash = null;
        $this->calls = [];
        $header = @getimagesize($path);
        if ($header !== false && $header[0] > 0 && $header[1] > 0) {
            $this->sourceMime = $header['mime'] ?? null;
            [$this->sourceWidth, $this->sourceHeight] = $this->upright((int) $header[0], (int) $header[1], $path);

            return;
        }
        $this->sourceMime = null;
        $source = $this->facts()->source;
        [$this->sourceWidth, $this->sourceHeight] = [$source->width, $source->height];
    }

    public function record(string $method, mixed ...$arguments): void
    {
        $this->calls[] = [$method, ...$arguments];
    }

    /** @return list<array> */
    public function calls(): array
    {
        return $this->calls;
    }

    public function path(): ?string
    {
        return $this->path;
    }

    public function plan(): ConversionPlan
    {
        return ConversionPlan::of($this->sourceWidth, $this->sourceHeight, $this->calls);
    }

    /** The width the saved image will have. */
    public function width(): int
    {
        return $this->plan()->width();
    }

    public function height(): int
    {
        return $this->plan()->height();
    }

    /** What imgopt cannot make of the recorded list, saved to $destination (empty: all of it). */
    public function unsupported(string $destination): array
    {
        $plan = $this->plan();
        $unsupported = $plan->unsupported;
        if ($plan->format($destination) === null) {
            $unsupported[] = 'format '.pathinfo($destination, PATHINFO_EXTENSION);
        }
        if ($plan->padsWithColour() && in_array($this->sourceMime, self::MAY_HAVE_ALPHA, true) && $this->facts()->source->hasAlpha) {
            $unsupported[] = 'padding a transparent image with a colour';
        }

        return $unsupported;
    }

    /**
     * Make the recorded list and write it to $destination: the rendition made ahead if there is one, else one
     * /convert.
     *
     * @throws UnsupportedManipulation|ImgoptException
     */
    public function save(string $destination): void
    {
        $unsupported = $this->unsupported($destination);
        if ($unsupported !== []) {
            throw UnsupportedManipulation::named($unsupported, (string) $this->path);
        }
        $fields = $this->plan()->fields($destination);
        $contents = $this->cache->take($this->hash(), $fields)
            ?? $this->client->convert(Upload::fromLocalFile((string) $this->path), $fields)->contents;
        if (@file_put_contents($destination, $contents) === false) {
            throw new ImgoptException("could not write '{$destination}'", 'storage_failed');
        }
    }

    /** The source's content hash: what renditions made ahead are filed under. */
    public function hash(): string
    {
        return $this->hash ??= (string) sha1_file((string) $this->path);
    }

    private function facts(): \Imgopt\Laravel\Results\Info
    {
        return $this->cache->facts($this->hash(), fn () => $this->client->info(Upload::fromLocalFile((string) $this->path)));
    }

    /** @return array{int, int} the stored size turned upright as its EXIF orientation says (5-8 swap sides) */
    private function upright(int $width, int $height, string $path): array
    {
        if (! function_exists('exif_read_data') || ! in_array($this->sourceMime, ['image/jpeg', 'image/tiff'], true)) {
            return [$width, $height];
        }
        $exif = @exif_read_data($path);
        $orientation = is_array($exif) ? (int) ($exif['Orientation'] ?? 1) : 1;

        return $orientation >= 5 && $orientation <= 8 ? [$height, $width] : [$width, $height];
    }
}
