<?php

namespace Imgopt\Laravel\Tests;

use Imgopt\Laravel\Sets\SetDefinition;
use PHPUnit\Framework\Attributes\DataProvider;
use PHPUnit\Framework\TestCase;

/** A set's config as the /variants renditions it asks for, and which stored names count as all of it. */
class SetDefinitionTest extends TestCase
{
    public function test_fixed_widths_expand_to_a_rendition_per_width_and_format(): void
    {
        $set = SetDefinition::fromConfig('cms', ['widths' => [320, 768], 'formats' => ['avif', 'webp']]);

        $this->assertSame([
            'avif-320' => ['format' => 'avif', 'width' => 320],
            'webp-320' => ['format' => 'webp', 'width' => 320],
            'avif-768' => ['format' => 'avif', 'width' => 768],
            'webp-768' => ['format' => 'webp', 'width' => 768],
        ], $set->variants);
    }

    public function test_a_format_may_carry_its_own_fields_over_the_defaults(): void
    {
        $set = SetDefinition::fromConfig('front', [
            'widths' => [640, 1080],
            'formats' => ['avif' => ['quality' => 50], 'webp'],
            'defaults' => ['quality' => 80],
        ]);

        $this->assertSame([
            'avif-640' => ['format' => 'avif', 'width' => 640, 'quality' => 50],
            'webp-640' => ['format' => 'webp', 'width' => 640],
            'avif-1080' => ['format' => 'avif', 'width' => 1080, 'quality' => 50],
            'webp-1080' => ['format' => 'webp', 'width' => 1080],
        ], $set->variants);
        $this->assertSame(['quality' => 80], $set->defaults);
    }

    public function test_auto_widths_ask_the_service_once_per_format_with_the_limits_given(): void
    {
        $set = SetDefinition::fromConfig('responsive', [
            'widths' => 'auto',
            'formats' => ['avif', 'webp'],
            'max_images' => 4,
            'bytes_step' => 2048,
            'renditions' => ['card' => ['width' => 400, 'height' => 400, 'fit' => 'cover']],
        ]);

        $this->assertSame([
            'avif' => ['format' => 'avif', 'widths' => 'auto', 'max_images' => 4, 'bytes_step' => 2048],
            'webp' => ['format' => 'webp', 'widths' => 'auto', 'max_images' => 4, 'bytes_step' => 2048],
            'card' => ['width' => 400, 'height' => 400, 'fit' => 'cover'],
        ], $set->variants);
    }

    /** @dataProvider stored (PHPUnit 9 reads the annotation, 10 and later the attribute) */
    #[DataProvider('stored')]
    public function test_a_manifest_is_complete_when_it_holds_what_each_rendition_makes(array $names, bool $complete): void
    {
        $set = SetDefinition::fromConfig('responsive', [
            'widths' => 'auto',
            'formats' => ['avif', 'webp'],
            'renditions' => ['card' => ['width' => 400]],
        ]);

        $this->assertSame($complete, $set->madeThese($names));
    }

    public static function stored(): array
    {
        return [
            'every width the service chose' => [['avif-320', 'avif-1920', 'webp-320', 'webp-640', 'webp-1920', 'card'], true],
            'one width each' => [['avif-1920', 'webp-800', 'card'], true],
            'a format with no width' => [['avif-320', 'card'], false],
            'the fixed rendition missing' => [['avif-320', 'webp-320'], false],
            'another set\'s extra' => [['avif-320', 'webp-320', 'card', 'square'], false],
            'out of order' => [['webp-320', 'avif-320', 'card'], false],
            'a name that only starts like one' => [['avif-large', 'webp-320', 'card'], false],
        ];
    }
}
