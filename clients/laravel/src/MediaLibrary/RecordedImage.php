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
        if (! $this->client->fitsUploadLimit((int) @filesize((string) $this->path))) {
            $unsupported[] = "an upload over the service's MAX_UPLOAD_MB";
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
            ?? $this->client->convert(Upload::fromLocalFile((string) $this->path), self::withParts($fields))->contents;
        if (@file_put_contents($destination, $contents) === false) {
            throw new ImgoptException("could not write '{$destination}'", 'storage_failed');
        }
    }

    /** The fields as a request sends them: the watermark's file as its file part. */
    public static function withParts(array $fields): array
    {
        if (isset($fields['watermark'])) {
            $fields['watermark'] = Upload::fromLocalFile((string) $fields['watermark']);
        }

        return $fields;
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

    /**
     * The stored size turned upright as its EXIF orientation says (5-8 swap sides), as the service turns it.
     * PHP reads the orientation of a JPEG or TIFF; a PNG, WebP or AVIF that carries EXIF (PHP cannot read
     * it there) is measured by the service's /info, once per source.
     *
     * @return array{int, int}
     */
    private function upright(int $width, int $height, string $path): array
    {
        if (in_array($this->sourceMime, ['image/jpeg', 'image/tiff'], true)) {
            $exif = function_exists('exif_read_data') ? @exif_read_data($path) : false;
            $orientation = is_array($exif) ? (int) ($exif['Orientation'] ?? 1) : 1;

            return $orientation >= 5 && $orientation <= 8 ? [$height, $width] : [$width, $height];
        }
        if (! self::carriesExif($path, (string) $this->sourceMime) || ! $this->client->fitsUploadLimit((int) filesize($path))) {
            return [$width, $height];
        }
        $source = $this->facts()->source;

        return [$source->width, $source->height];
    }

    /** Whether a PNG (eXIf chunk), WebP (EXIF chunk) or AVIF (Exif item) holds EXIF, from its first 64 KiB. */
    private static function carriesExif(string $path, string $mime): bool
    {
        $marker = ['image/png' => 'eXIf', 'image/webp' => 'EXIF', 'image/avif' => 'Exif'][$mime] ?? null;
        $head = $marker === null ? false : @file_get_contents($path, false, null, 0, 65536);

        return is_string($head) && str_contains($head, $marker);
    }
}
