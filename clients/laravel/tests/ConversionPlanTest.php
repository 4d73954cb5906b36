<?php

namespace Imgopt\Laravel\Tests;

use Imgopt\Laravel\MediaLibrary\ConversionPlan;
use PHPUnit\Framework\Attributes\DataProvider;
use PHPUnit\Framework\TestCase;

/**
 * spatie/image manipulation lists as imgopt fields, on a 3264x2448 upright source. The sizes are what
 * spatie/image's GD driver gives for the same lists (tests/test_medialibrary.py checks that against GD
 * itself, in an app with medialibrary).
 */
class ConversionPlanTest extends TestCase
{
    private const WIDTH = 3264;

    private const HEIGHT = 2448;

    /** @dataProvider plans (PHPUnit 9 reads the annotation, 10 and later the attribute) */
    #[DataProvider('plans')]
    public function test_a_manipulation_list_becomes_the_fields_that_make_it(array $calls, array $size, array $fields): void
    {
        $plan = ConversionPlan::of(self::WIDTH, self::HEIGHT, $calls);

        $this->assertSame([], $plan->unsupported);
        $this->assertSame($size, [$plan->width(), $plan->height()]);
        $this->assertSame(self::canonical(self::withGdDefaults($fields)), self::canonical($plan->fields('conversion.jpg')));
    }

    /**
     * What GD writes where spatie/image sets nothing: a JPEG at quality 75 (WebP 80, AVIF the service's 50),
     * black under what was transparent.
     */
    private static function withGdDefaults(array $fields): array
    {
        $defaults = ['jpeg' => ['quality' => 75, 'background' => '#000000'], 'webp' => ['quality' => 80], 'avif' => ['quality' => 50]];

        return isset($fields['lossless']) ? $fields : $fields + ($defaults[$fields['format']] ?? []);
    }

    private static function canonical(array $fields): array
    {
        ksort($fields);

        return $fields;
    }

    public static function plans(): array
    {
        $still = ['format' => 'jpeg', 'animated' => false];

        return [
            'nothing: the source as it is' => [[], [3264, 2448], $still],
            'optimize needs nothing' => [[['optimize'], ['format', 'webp']], [3264, 2448], ['format' => 'webp', 'animated' => false]],
            'width keeps the aspect ratio' => [[['width', 800]], [800, 600], $still + ['width' => 800, 'height' => 600, 'fit' => 'fill']],
            'height keeps it too' => [[['height', 300]], [400, 300], $still + ['width' => 400, 'height' => 300, 'fit' => 'fill']],
            'width may enlarge, as spatie/image does' => [[['width', 4000]], [4000, 3000], $still + ['width' => 4000, 'height' => 3000, 'fit' => 'fill', 'enlarge' => true]],
            'not with DoNotUpsize' => [[['width', 4000, ['preserveAspectRatio', 'upsize']]], [3264, 2448], $still],
            'resize without constraints stretches' => [[['resize', 400, 400]], [400, 400], $still + ['width' => 400, 'height' => 400, 'fit' => 'fill']],
            'numbers as strings, as a config file may give them' => [[['width', '800'], ['quality', '65'], ['sharpen', '10']], [800, 600], $still + ['width' => 800, 'height' => 600, 'fit' => 'fill', 'quality' => 65, 'operations' => 'sharpen(10)']],
            'WebP at quality(100) is lossless, as GD writes it' => [[['quality', 100], ['format', 'webp']], [3264, 2448], ['format' => 'webp', 'animated' => false, 'lossless' => true]],
            'AVIF too' => [[['format', 'avif'], ['quality', 100]], [3264, 2448], ['format' => 'avif', 'animated' => false, 'lossless' => true]],
            'a JPEG at 100 is a JPEG at 100' => [[['quality', 100]], [3264, 2448], $still + ['quality' => 100]],
            'GD\'s default WebP quality' => [[['format', 'webp']], [3264, 2448], ['format' => 'webp', 'animated' => false, 'quality' => 80]],
            'GD\'s default AVIF quantizer' => [[['format', 'avif']], [3264, 2448], ['format' => 'avif', 'animated' => false, 'quality' => 50]],
            'quality and format' => [[['quality', 65], ['format', 'avif']], [3264, 2448], ['format' => 'avif', 'animated' => false, 'quality' => 65]],
            'Fit::Contain' => [[['fit', 'contain', 400, 400]], [400, 300], $still + ['width' => 400, 'height' => 300, 'fit' => 'fill']],
            'Fit::Max never enlarges' => [[['fit', 'max', 5000, 5000]], [3264, 2448], $still],
            'Fit::Fill pads to the box' => [[['fit', 'fill', 400, 400]], [400, 400], $still + ['width' => 400, 'height' => 400, 'fit' => 'contain', 'background' => '#ffffff']],
            'Fit::FillMax too' => [[['fit', 'fill-max', 400, 400, false, '#000']], [400, 400], $still + ['width' => 400, 'height' => 400, 'fit' => 'contain', 'background' => '#000']],
            'Fit::Stretch' => [[['fit', 'stretch', 400, 300]], [400, 300], $still + ['width' => 400, 'height' => 300, 'fit' => 'fill']],
            'Fit::Crop covers the box from the centre' => [[['fit', 'crop', 300, 300]], [300, 300], $still + ['crop' => [408, 0, 2448, 2448], 'width' => 300, 'height' => 300, 'fit' => 'fill']],
            'crop at a position' => [[['crop', 500, 300, 'bottomRight']], [500, 300], $still + ['crop' => [2764, 2148, 500, 300]]],
            'crop at the centre' => [[['crop', 500, 300]], [500, 300], $still + ['crop' => [1382, 1074, 500, 300]]],
            'manual crop' => [[['manualCrop', 600, 400, 100, 50]], [600, 400], $still + ['crop' => [100, 50, 600, 400]]],
            'focal crop keeps the box inside' => [[['focalCrop', 600, 400, 3200, 100]], [600, 400], $still + ['crop' => [2664, 0, 600, 400]]],
            'focal crop and resize (percent)' => [[['focalCropAndResize', 400, 400, 30, 70]], [400, 400], $still + ['crop' => [0, 0, 2448, 2448], 'width' => 400, 'height' => 400, 'fit' => 'fill']],
            'a crop after a resize is a crop of the source' => [[['width', 1632], ['manualCrop', 400, 400, 100, 100]], [400, 400], $still + ['crop' => [200, 200, 800, 800], 'width' => 400, 'height' => 400, 'fit' => 'fill']],
            'a resize after a crop scales the crop' => [[['manualCrop', 1000, 1000, 200, 100], ['width', 300]], [300, 300], $still + ['crop' => [200, 100, 1000, 1000], 'width' => 300, 'height' => 300, 'fit' => 'fill']],
            'background flattens' => [[['background', 'FF0000'], ['width', 800]], [800, 600], $still + ['width' => 800, 'height' => 600, 'fit' => 'fill', 'background' => '#ff0000']],
            'orientation from EXIF is what imgopt does anyway' => [[['orientation', null], ['orientation', 0]], [3264, 2448], $still],
            'the media library docs\' first example' => [[['width', 368], ['height', 232], ['sharpen', 10]], [309, 232], $still + ['width' => 309, 'height' => 232, 'fit' => 'fill', 'operations' => 'sharpen(10)']],
            'pixel operations in the order given' => [[['width', 800], ['greyscale'], ['blur', 2], ['brightness', -10], ['contrast', 5.5], ['gamma', 1.2], ['colorize', 10, 0, -10], ['pixelate'], ['sepia']], [800, 600], $still + ['width' => 800, 'height' => 600, 'fit' => 'fill', 'operations' => 'greyscale:blur(2):brightness(-10):contrast(5.5):gamma(1.2):colorize(10, 0, -10):pixelate(50):sepia']],
            'Lunar\'s border at width 0' => [[['border', 0, 'overlay', '#FFF'], ['background', '#FFF']], [3264, 2448], $still + ['background' => '#fff', 'operations' => 'border(0, overlay, #fff)']],
            'an expanding border makes the output larger' => [[['width', 800], ['border', 10, 'expand', '000000']], [820, 620], $still + ['width' => 800, 'height' => 600, 'fit' => 'fill', 'operations' => 'border(10, expand, #000000)']],
            'a watermark, as the media library docs lay one' => [[['width', 800], ['watermark', __FILE__, 'bottom-right', 2, 2, 'percent', 15, 'percent', 0, 'pixel', 'contain', 60]], [800, 600], $still + ['width' => 800, 'height' => 600, 'fit' => 'fill', 'operations' => 'watermark(position=bottom-right, padding_x=2, padding_y=2, padding_unit=percent, width=15, width_unit=percent, height=0, height_unit=pixel, fit=contain, alpha=60)', 'watermark' => __FILE__]],
            'insert is a watermark at its own size' => [[['insert', __FILE__, 'top-left', 10, 20, 50]], [3264, 2448], $still + ['operations' => 'watermark(position=top-left, padding_x=10, padding_y=20, alpha=50)', 'watermark' => __FILE__]],
            'background after padding fills transparency only: the padding keeps the fit\'s colour' => [[['fit', 'fill', 400, 400], ['background', '#ff0000']], [400, 400], $still + ['width' => 400, 'height' => 400, 'fit' => 'contain', 'background' => '#ffffff']],
            'a flip and a quarter turn' => [[['width', 800], ['flip', 'horizontal'], ['orientation', 90]], [600, 800], $still + ['width' => 800, 'height' => 600, 'fit' => 'fill', 'operations' => 'flip(horizontal):orientation(90)']],
        ];
    }

    /** @dataProvider unsupported */
    #[DataProvider('unsupported')]
    public function test_what_imgopt_cannot_make_is_named_not_dropped(array $calls, string $named): void
    {
        $plan = ConversionPlan::of(self::WIDTH, self::HEIGHT, $calls);

        $this->assertFalse($plan->isSupported());
        $this->assertContains($named, $plan->unsupported);
    }

    public static function unsupported(): array
    {
        return [
            'a watermark of a file that is not there' => [[['watermark', '/nowhere/logo.png']], 'watermark of an image that is not a file'],
            'a second watermark image' => [[['watermark', __FILE__], ['insert', __DIR__.'/bootstrap.php']], 'insert of a second image'],
            'text' => [[['text', 'hello', 12]], 'text'],
            'geometry after a pixel operation' => [[['sharpen', 10], ['width', 300]], 'width after a pixel operation'],
            'a border colour that is not hex' => [[['border', 2, 'overlay', 'rgb(1, 2, 3)']], 'border'],
            'GIF output' => [[['format', 'gif']], 'format(gif)'],
            'work after padding' => [[['fit', 'fill', 400, 400], ['width', 200]], 'width after padding'],
            'padding at a corner' => [[['resizeCanvas', 4000, 4000, 'top-left']], 'resizeCanvas(top-left)'],
            'a margin on every side' => [[['resizeCanvas', 4000, 3000]], 'resizeCanvas(a margin on every side)'],
        ];
    }

    public function test_a_responsive_width_keeps_the_conversions_framing(): void
    {
        $plan = ConversionPlan::of(self::WIDTH, self::HEIGHT, [['fit', 'crop', 1200, 600], ['format', 'webp']]);

        $this->assertSame(
            ['format' => 'webp', 'animated' => false, 'quality' => 90, 'crop' => [0, 408, 3264, 1632], 'width' => 600, 'height' => 300, 'fit' => 'fill'],
            $plan->scaledFields(600, 300, 'webp', 90),
        );
    }

    public function test_without_a_format_call_the_saved_files_extension_says_it(): void
    {
        $plan = ConversionPlan::of(self::WIDTH, self::HEIGHT, [['width', 320]]);

        $this->assertSame('webp', $plan->fields('responsive.webp')['format']);
        $this->assertNull($plan->format('responsive.heic'));
    }

    public function test_widths_auto_keeps_the_framing_and_caps_the_widest_at_the_output(): void
    {
        $this->assertSame(
            ['format' => 'webp', 'animated' => false, 'quality' => 90, 'crop' => [408, 0, 2448, 2448], 'widths' => 'auto', 'max_width' => 300, 'max_images' => 4],
            ConversionPlan::of(self::WIDTH, self::HEIGHT, [['fit', 'crop', 300, 300]])->autoWidthFields('webp', 90, ['max_images' => 4]),
        );
        $this->assertSame(
            ['format' => 'avif', 'animated' => false, 'quality' => 60, 'widths' => 'auto', 'max_width' => self::WIDTH],
            ConversionPlan::of(self::WIDTH, self::HEIGHT, [])->autoWidthFields('avif', 60),
        );
    }

    /** A stretch, a pad and an enlargement are sizes widths=auto cannot make: the widths are asked for one by one. */
    public function test_widths_auto_is_not_asked_for_what_it_cannot_make(): void
    {
        foreach ([[['fit', 'stretch', 400, 400]], [['fit', 'fill', 400, 400]], [['width', 5000]]] as $calls) {
            $this->assertNull(ConversionPlan::of(self::WIDTH, self::HEIGHT, $calls)->autoWidthFields('webp', 90), json_encode($calls));
        }
    }
}
