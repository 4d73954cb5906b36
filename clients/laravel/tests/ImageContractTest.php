<?php

namespace Imgopt\Laravel\Tests;

use Imgopt\Laravel\Sets\RenditionSet;
use Imgopt\Laravel\View\ImageContract;
use InvalidArgumentException;
use PHPUnit\Framework\TestCase;

/** A stored set as the image contract headless front ends render (docs/image-contract.md). */
class ImageContractTest extends TestCase
{
    public function test_a_set_becomes_avif_and_webp_sources_a_fallback_its_size_and_placeholder(): void
    {
        $contract = ImageContract::fromSet(self::set(), 'The harbour', '(min-width: 1024px) 50vw, 100vw')->toArray();

        $this->assertSame([
            'src' => '/s/webp-1200.webp',
            'width' => 4032,
            'height' => 3024,
            'alt' => 'The harbour',
            'sources' => [
                ['type' => 'image/avif', 'srcset' => '/s/avif-320.avif 320w, /s/avif-1200.avif 1200w'],
                ['type' => 'image/webp', 'srcset' => '/s/webp-320.webp 320w, /s/webp-1200.webp 1200w'],
            ],
            'sizes' => '(min-width: 1024px) 50vw, 100vw',
            'placeholder' => ['color' => '#7a8b99', 'blurhash' => 'LEHV6nWB2yk8', 'data_uri' => 'data:image/webp;base64,UklGRg=='],
        ], $contract);
        $this->assertSame(json_encode($contract), json_encode(ImageContract::fromSet(self::set(), 'The harbour', '(min-width: 1024px) 50vw, 100vw')));
    }

    public function test_a_crop_is_not_offered_in_a_srcset_and_without_sizes_there_is_no_sizes_key(): void
    {
        $set = self::set([['name' => 'square', 'format' => 'avif', 'width' => 400, 'height' => 400, 'region' => [504, 0, 3024, 3024]]]);

        $contract = ImageContract::fromSet($set)->toArray();

        $this->assertStringNotContainsString('square', $contract['sources'][0]['srcset']);
        $this->assertArrayNotHasKey('sizes', $contract);
        $this->assertSame('', $contract['alt']);
    }

    public function test_a_set_with_nothing_that_shows_the_whole_image_is_refused(): void
    {
        $this->expectException(InvalidArgumentException::class);
        ImageContract::fromSet(RenditionSet::fromArray(['set' => 'cards'] + self::manifest([['name' => 'square', 'format' => 'webp', 'width' => 400, 'height' => 400, 'region' => [0, 0, 10, 10]]], false)));
    }

    private static function set(array $extra = []): RenditionSet
    {
        return RenditionSet::fromArray(['set' => 'default'] + self::manifest($extra));
    }

    private static function manifest(array $extra, bool $srcset = true): array
    {
        $renditions = [];
        foreach ($srcset ? ['avif', 'webp'] : [] as $format) {
            foreach ([320 => 240, 1200 => 900] as $width => $height) {
                $renditions[] = ['name' => "{$format}-{$width}", 'format' => $format, 'width' => $width, 'height' => $height];
            }
        }
        $renditions = array_map(fn ($r) => $r + ['media_type' => "image/{$r['format']}", 'bytes' => 1000, 'path' => "s/{$r['name']}.{$r['format']}", 'url' => "/s/{$r['name']}.{$r['format']}"], [...$renditions, ...$extra]);

        return [
            'disk' => 'public',
            'source' => ['format' => 'jpeg', 'width' => 4032, 'height' => 3024, 'has_alpha' => false],
            'placeholder' => ['color' => '#7a8b99', 'blurhash' => 'LEHV6nWB2yk8', 'thumbhash' => null, 'data_uri' => 'data:image/webp;base64,UklGRg=='],
            'renditions' => $renditions,
        ];
    }
}
