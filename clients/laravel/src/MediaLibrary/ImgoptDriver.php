<?php

namespace Imgopt\Laravel\MediaLibrary;

use BackedEnum;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\UnsupportedManipulation;
use LogicException;
use Spatie\Image\Drivers\Concerns\GetsOrientationFromExif;
use Spatie\Image\Drivers\ImageDriver;
use Spatie\Image\Enums\AlignPosition;
use Spatie\Image\Enums\BorderType;
use Spatie\Image\Enums\ColorFormat;
use Spatie\Image\Enums\Constraint;
use Spatie\Image\Enums\CropPosition;
use Spatie\Image\Enums\Fit;
use Spatie\Image\Enums\FlipDirection;
use Spatie\Image\Enums\Orientation;
use Spatie\Image\Enums\Unit;
use Spatie\Image\Image;
use Spatie\Image\Size;
use Spatie\ImageOptimizer\OptimizerChain;

/**
 * spatie/image's driver, backed by imgopt: `'image_driver' => Imgopt\Laravel\MediaLibrary\ImgoptDriver::class`
 * in config/media-library.php. Every manipulation is recorded (RecordedImage) and the list is made by the
 * service at save(), in one /convert, or taken from a /variants made ahead for the whole media item. No
 * pixel is decoded in PHP. spatie/image's pixel operations (sharpen, blur, greyscale, ...) are the service's
 * operations, a watermark() or insert() the service's watermark. A manipulation imgopt cannot make here (text)
 * fails the conversion naming it, or,
 * with imgopt.media_library.fallback set to 'gd' or 'imagick', the whole list is made in PHP by that driver
 * instead.
 */
class ImgoptDriver implements ImageDriver
{
    use GetsOrientationFromExif;

    protected RecordedImage $image;

    /** @var list<array{string, array}> the calls as they came, for a fallback driver to replay */
    protected array $received = [];

    /** spatie/image makes a driver with `new` and no arguments; ItemRenditions hands one an image to record on. */
    public function __construct(?RecordedImage $image = null)
    {
        $this->image = $image ?? new RecordedImage(app(Client::class), app(RenditionCache::class));
    }

    /** A driver recording on $image, already loaded. */
    public static function over(RecordedImage $image): self
    {
        return new self($image);
    }

    public function driverName(): string
    {
        return 'imgopt';
    }

    public function new(int $width, int $height, ?string $backgroundColor = null): static
    {
        return $this->keep('new', func_get_args());
    }

    public function loadFile(string $path): static
    {
        $this->received = [];
        $this->image->load($path);

        return $this;
    }

    public function save(string $path = ''): static
    {
        $destination = $path !== '' ? $path : (string) $this->image->path();
        $unsupported = $this->image->unsupported($destination);
        if ($unsupported === []) {
            $this->image->save($destination);
        } elseif ($fallback = config('imgopt.media_library.fallback')) {
            $this->saveWith((string) $fallback, $destination);
        } else {
            throw UnsupportedManipulation::named($unsupported, (string) $this->image->path());
        }

        return $this;
    }

    public function getWidth(): int
    {
        return $this->image->width();
    }

    public function getHeight(): int
    {
        return $this->image->height();
    }

    public function getSize(): Size
    {
        return new Size($this->getWidth(), $this->getHeight());
    }

    public function brightness(int $brightness): static
    {
        return $this->keep('brightness', func_get_args());
    }

    public function gamma(float $gamma): static
    {
        return $this->keep('gamma', func_get_args());
    }

    public function contrast(float $level): static
    {
        return $this->keep('contrast', func_get_args());
    }

    public function blur(int $blur): static
    {
        return $this->keep('blur', func_get_args());
    }

    public function colorize(int $red, int $green, int $blue): static
    {
        return $this->keep('colorize', func_get_args());
    }

    public function greyscale(): static
    {
        return $this->keep('greyscale', []);
    }

    public function sepia(): static
    {
        return $this->keep('sepia', []);
    }

    public function sharpen(float $amount): static
    {
        return $this->keep('sharpen', func_get_args());
    }

    public function fit(Fit $fit, ?int $desiredWidth = null, ?int $desiredHeight = null, bool $relative = false, string $backgroundColor = '#ffffff'): static
    {
        return $this->keep('fit', func_get_args(), [$fit->value, $desiredWidth, $desiredHeight, $relative, $backgroundColor]);
    }

    public function pickColor(int $x, int $y, ColorFormat $colorFormat): mixed
    {
        throw new LogicException('imgopt does not decode pixels in PHP: pickColor() needs the gd or imagick driver');
    }

    public function resizeCanvas(?int $width = null, ?int $height = null, ?AlignPosition $position = null, bool $relative = false, string $backgroundColor = '#000000'): static
    {
        return $this->keep('resizeCanvas', func_get_args(), [$width, $height, ($position ?? AlignPosition::Center)->value, $relative, $backgroundColor]);
    }

    public function manualCrop(int $width, int $height, ?int $x = null, ?int $y = null): static
    {
        return $this->keep('manualCrop', func_get_args(), [$width, $height, $x, $y]);
    }

    public function crop(int $width, int $height, CropPosition $position = CropPosition::Center): static
    {
        return $this->keep('crop', func_get_args(), [$width, $height, $position->value]);
    }

    public function focalCrop(int $width, int $height, ?int $cropCenterX = null, ?int $cropCenterY = null): static
    {
        return $this->keep('focalCrop', func_get_args(), [$width, $height, $cropCenterX, $cropCenterY]);
    }

    public function focalCropAndResize(int $width, int $height, ?int $cropCenterX = null, ?int $cropCenterY = null): static
    {
        return $this->keep('focalCropAndResize', func_get_args(), [$width, $height, $cropCenterX, $cropCenterY]);
    }

    public function base64(string $imageFormat = 'jpeg', bool $prefixWithFormat = true): string
    {
        $file = tempnam(sys_get_temp_dir(), 'imgopt').'.'.$imageFormat;
        try {
            $this->save($file);
            $encoded = base64_encode((string) file_get_contents($file));
        } finally {
            @unlink($file);
        }

        return $prefixWithFormat ? "data:image/{$imageFormat};base64,{$encoded}" : $encoded;
    }

    public function background(string $color): static
    {
        return $this->keep('background', func_get_args());
    }

    public function overlay(ImageDriver $bottomImage, ImageDriver $topImage, int $x, int $y): static
    {
        return $this->keep('overlay', func_get_args());
    }

    /** With no angle, GD turns the (already upright) image by its EXIF orientation's angle once more. */
    public function orientation(?Orientation $orientation = null): static
    {
        return $this->keep('orientation', func_get_args(), [($orientation ?? $this->getOrientationFromExif($this->exif()))->value]);
    }

    public function exif(): array
    {
        $path = (string) $this->image->path();
        $exif = function_exists('exif_read_data') ? @exif_read_data($path) : false;

        return is_array($exif) ? $exif : [];
    }

    public function flip(FlipDirection $flip): static
    {
        return $this->keep('flip', func_get_args(), [$flip->value]);
    }

    public function pixelate(int $pixelate = 50): static
    {
        return $this->keep('pixelate', func_get_args());
    }

    public function watermark(ImageDriver|string $watermarkImage, AlignPosition $position = AlignPosition::BottomRight, int $paddingX = 0, int $paddingY = 0, Unit $paddingUnit = Unit::Pixel, int $width = 0, Unit $widthUnit = Unit::Pixel, int $height = 0, Unit $heightUnit = Unit::Pixel, Fit $fit = Fit::Contain, int $alpha = 100): static
    {
        $file = is_string($watermarkImage) ? $watermarkImage : null;

        return $this->keep('watermark', func_get_args(), [$file, $position->value, $paddingX, $paddingY, $paddingUnit->value, $width, $widthUnit->value, $height, $heightUnit->value, $fit->value, $alpha]);
    }

    public function insert(ImageDriver|string $otherImage, AlignPosition $position = AlignPosition::Center, int $x = 0, int $y = 0, int $alpha = 100): static
    {
        return $this->keep('insert', func_get_args(), [is_string($otherImage) ? $otherImage : null, $position->value, $x, $y, $alpha]);
    }

    public function text(string $text, int $fontSize, string $color = '000000', int $x = 0, int $y = 0, int $angle = 0, string $fontPath = '', int $width = 0): static
    {
        return $this->keep('text', func_get_args());
    }

    public function wrapText(string $text, int $fontSize, string $fontPath = '', int $angle = 0, int $width = 0): string
    {
        throw new LogicException('imgopt does not set text: wrapText() needs the gd or imagick driver');
    }

    public function image(): mixed
    {
        throw new LogicException('imgopt does not decode pixels in PHP: image() needs the gd or imagick driver');
    }

    public function resize(int $width, int $height, array $constraints = []): static
    {
        return $this->keep('resize', func_get_args(), [$width, $height, self::values($constraints)]);
    }

    public function width(int $width, array $constraints = [Constraint::PreserveAspectRatio]): static
    {
        return $this->keep('width', func_get_args(), [$width, self::values($constraints)]);
    }

    public function height(int $height, array $constraints = [Constraint::PreserveAspectRatio]): static
    {
        return $this->keep('height', func_get_args(), [$height, self::values($constraints)]);
    }

    public function border(int $width, BorderType $type, string $color = '000000'): static
    {
        return $this->keep('border', func_get_args(), [$width, $type->value, $color]);
    }

    public function quality(int $quality): static
    {
        return $this->keep('quality', func_get_args());
    }

    public function format(string $format): static
    {
        return $this->keep('format', func_get_args());
    }

    public function optimize(?OptimizerChain $optimizerChain = null): static
    {
        return $this->keep('optimize', func_get_args(), []);
    }

    /** Record a call: as it came (for a fallback), and with enums as values (for the plan). */
    protected function keep(string $method, array $arguments, ?array $normalised = null): static
    {
        $this->received[] = [$method, $arguments];
        $this->image->record($method, ...($normalised ?? $arguments));

        return $this;
    }

    /** The whole list made by spatie/image's own driver, in PHP. */
    protected function saveWith(string $driver, string $destination): void
    {
        $image = Image::useImageDriver($driver)->loadFile((string) $this->image->path());
        foreach ($this->received as [$method, $arguments]) {
            $image->{$method}(...$arguments);
        }
        $image->save($destination);
    }

    /** @return list<string> */
    private static function values(array $enums): array
    {
        return array_values(array_map(fn ($value) => $value instanceof BackedEnum ? (string) $value->value : (string) $value, $enums));
    }
}
