<?php

namespace Imgopt\Laravel\View\Components;

use Illuminate\View\Component;
use Imgopt\Laravel\Sets\RenditionSet;

/**
 * <x-imgopt-picture :set="$post->cover" sizes="(min-width: 1024px) 50vw, 100vw" alt="..." />: a <picture>
 * with an AVIF and a WebP <source>, each a srcset of width descriptors, and an <img> that has its upright
 * width and height (no layout shift), loads lazily (or eagerly with fetchpriority=high for a hero), and
 * paints the set's tiny placeholder until the image covers it.
 */
class Picture extends Component
{
    /** The formats a <source> is written for, best first; the <img> takes the fallback format. */
    public const SOURCE_FORMATS = ['avif', 'webp'];

    public ?RenditionSet $manifest;

    /** @param  RenditionSet|array|null  $set  a manifest, or its array form */
    public function __construct(
        $set,
        public string $sizes = '100vw',
        public string $alt = '',
        public bool $eager = false,
        public bool $placeholder = true,
    ) {
        $this->manifest = is_array($set) ? RenditionSet::fromArray($set) : $set;
    }

    /** @return list<array{type: string, srcset: string}> */
    public function sources(): array
    {
        $sources = [];
        foreach (self::SOURCE_FORMATS as $format) {
            $srcset = $this->manifest->srcset($format);
            if ($srcset !== '') {
                $sources[] = ['type' => "image/{$format}", 'srcset' => $srcset];
            }
        }

        return $sources;
    }

    /** The <img> attributes the set decides; the caller's own attributes are merged over them. */
    public function imageAttributes(string $style = ''): array
    {
        $fallback = $this->manifest->fallback();
        $attributes = [
            'src' => $fallback ? $fallback->url : '',
            'srcset' => $fallback ? $this->manifest->srcset($fallback->format) : '',
            'sizes' => $this->sizes,
            'width' => $this->manifest->width(),
            'height' => $this->manifest->height(),
            'alt' => $this->alt,
            'loading' => $this->eager ? 'eager' : 'lazy',
            'decoding' => 'async',
        ];
        if ($this->eager) {
            $attributes['fetchpriority'] = 'high';
        }
        $dataUri = $this->manifest->placeholder->dataUri;
        if ($this->placeholder && $dataUri) {
            $style = rtrim("background-size:cover;background-image:url('{$dataUri}');".$style, ';');
            if ($this->manifest->source->hasAlpha) {
                // A transparent image would show its placeholder through: drop it once the image is in.
                $attributes['onload'] = "this.style.backgroundImage='none'";
            }
        }
        if ($style !== '') {
            $attributes['style'] = $style;
        }

        return $attributes;
    }

    public function shouldRender(): bool
    {
        return $this->manifest !== null && $this->manifest->renditions !== [];
    }

    public function render()
    {
        return view('imgopt::components.picture');
    }
}
