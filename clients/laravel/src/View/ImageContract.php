<?php

namespace Imgopt\Laravel\View;

use Illuminate\Contracts\Support\Arrayable;
use Imgopt\Laravel\Sets\RenditionSet;
use Imgopt\Laravel\View\Components\Picture;
use InvalidArgumentException;
use JsonSerializable;
use Spatie\MediaLibrary\MediaCollections\Models\Media;
use Spatie\MediaLibrary\ResponsiveImages\ResponsiveImage;

/**
 * One image as a headless front end renders it (docs/image-contract.md): a fallback `src`, the intrinsic
 * `width` and `height`, `alt`, `sources` (an AVIF and a WebP srcset, best first), `sizes` and a
 * `placeholder`. What an API Resource returns for an image: `ImageContract::fromSet($post->cover, $post->title)`
 * or `ImageContract::fromMedia($media, ['preview-avif', 'preview'])`; @imgopt/images renders it in React
 * and Astro as <x-imgopt-picture> renders a set in Blade.
 */
final class ImageContract implements Arrayable, JsonSerializable
{
    /**
     * @param  list<array{type: string, srcset: string}>  $sources
     * @param  array{color?: ?string, data_uri?: ?string, blurhash?: ?string, thumbhash?: ?string}|null  $placeholder
     */
    public function __construct(
        public string $src,
        public int $width,
        public int $height,
        public string $alt = '',
        public array $sources = [],
        public ?string $sizes = null,
        public ?array $placeholder = null,
    ) {
    }

    /** A stored rendition set: its AVIF and WebP srcsets, the <img> fallback Blade uses, its placeholder. */
    public static function fromSet(RenditionSet $set, string $alt = '', ?string $sizes = null): self
    {
        $fallback = $set->fallback();
        if ($fallback === null) {
            throw new InvalidArgumentException("the '{$set->set}' set has no rendition that shows the whole image");
        }
        $sources = [];
        foreach (Picture::SOURCE_FORMATS as $format) {
            if (($srcset = $set->srcset($format)) !== '') {
                $sources[] = ['type' => "image/{$format}", 'srcset' => $srcset];
            }
        }

        return new self(
            $fallback->url,
            $set->width(),
            $set->height(),
            $alt,
            $sources,
            $sizes,
            array_filter($set->placeholder->toArray(), fn ($value) => $value !== null),
        );
    }

    /**
     * A media library item: each named conversion's responsive images (made by imgopt through the bridge) as
     * one source of its format, in the order given (best first: 'preview-avif', then 'preview'); '' is the
     * original's own (withResponsiveImages() on its collection). `src` is the last conversion's widest file,
     * which a browser shows whatever the upload was (a HEIC original's srcset is JPEG); the placeholder is
     * medialibrary's tiny blurred SVG.
     *
     * @param  string|list<string>  $conversions
     */
    public static function fromMedia(Media $media, string|array $conversions = '', string $alt = '', ?string $sizes = null): self
    {
        $sources = [];
        $widest = null;
        $placeholder = null;
        foreach ((array) $conversions as $conversion) {
            $responsive = $media->responsiveImages($conversion);
            $files = $responsive->files->sortBy(fn (ResponsiveImage $file) => $file->width())->values();
            if ($files->isEmpty()) {
                continue;
            }
            $sources[] = [
                'type' => self::mimeType($files->last()->fileName),
                'srcset' => $files->map(fn (ResponsiveImage $file) => "{$file->url()} {$file->width()}w")->implode(', '),
            ];
            $widest = $files->last();
            $placeholder ??= $responsive->getPlaceholderSvg();
        }
        if ($widest === null) {
            throw new InvalidArgumentException("media {$media->getKey()} has no responsive images for '".implode("', '", (array) $conversions)."'");
        }

        return new self(
            $widest->url(),
            $widest->width(),
            $widest->height(),
            $alt !== '' ? $alt : (string) $media->getCustomProperty('alt', ''),
            $sources,
            $sizes,
            $placeholder !== null ? ['data_uri' => $placeholder] : null,
        );
    }

    public function toArray(): array
    {
        return array_filter([
            'src' => $this->src,
            'width' => $this->width,
            'height' => $this->height,
            'alt' => $this->alt,
            'sources' => $this->sources,
            'sizes' => $this->sizes,
            'placeholder' => $this->placeholder,
        ], fn ($value) => $value !== null);
    }

    public function jsonSerialize(): array
    {
        return $this->toArray();
    }

    private static function mimeType(string $fileName): string
    {
        $extension = strtolower(pathinfo($fileName, PATHINFO_EXTENSION));

        return match ($extension) {
            'jpg', 'jpeg' => 'image/jpeg',
            default => "image/{$extension}",
        };
    }
}
