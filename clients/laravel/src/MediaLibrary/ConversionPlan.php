<?php

namespace Imgopt\Laravel\MediaLibrary;

/**
 * A spatie/image manipulation list as one imgopt /convert: the region of the upright source it shows, the
 * output size, padding, background, format and quality, worked out with spatie/image 3's own arithmetic (its
 * Size::resize, fit, crop offsets and focal crops), so the file imgopt makes has the size GD or Imagick
 * would give it. Resizes and crops compose: a crop after a resize is a crop of the source at the resize's
 * scale. Pixel operations (sharpen, blur, greyscale, sepia, brightness, contrast, gamma, colorize, pixelate,
 * flip, a turn, border, a watermark or insert of a file) become the service's operations, in order. What
 * imgopt cannot make here (text, geometry after a pixel operation or after padding) is listed in
 * $unsupported instead of being dropped.
 *
 * Calls are [method, ...arguments] with enums as their values: ['fit', 'crop', 300, 300, false, '#ffffff'].
 */
final class ConversionPlan
{
    /** Manipulations that change nothing here: the service always encodes small and strips metadata. */
    public const IGNORED = ['optimize'];

    /** Output formats imgopt writes, by the names spatie/image and file extensions use. */
    public const FORMATS = ['jpg' => 'jpeg', 'jpeg' => 'jpeg', 'pjpg' => 'jpeg', 'jfif' => 'jpeg', 'png' => 'png', 'webp' => 'webp', 'avif' => 'avif'];

    /**
     * GD's quality when spatie/image sets none (-1): libjpeg's 75, libgd's WebP 80, and libgd's AVIF quantizer 30,
     * which is the service's quality 50 (it gives the encoder quality + 2, docs/api.md).
     */
    public const GD_DEFAULT_QUALITY = ['jpeg' => 75, 'webp' => 80, 'avif' => 50];

    /** Formats GD writes lossless at quality(100). */
    private const LOSSLESS_AT_100 = ['webp', 'avif'];

    /** What GD's JPEG shows where a source was transparent: it drops the alpha, and transparent pixels are black. */
    private const JPEG_UNDER_TRANSPARENCY = '#000000';

    private const PRESERVE_ASPECT_RATIO = 'preserveAspectRatio';

    private const DO_NOT_UPSIZE = 'upsize';

    private const CENTRE = ['center', 'middle', 'centerCenter', 'middleMiddle'];

    /** @var list<string> manipulations imgopt cannot make, by name */
    public array $unsupported = [];

    /** The region of the upright source the current image shows, in source pixels. */
    private float $x = 0;

    private float $y = 0;

    private float $regionWidth;

    private float $regionHeight;

    /** The current image's size, and the canvas it is padded to (null: none). */
    private int $width;

    private int $height;

    private ?array $canvas = null;

    private ?string $background = null;

    /** A background() call asked for the image to be flattened onto the colour. */
    private bool $flattens = false;

    private ?string $format = null;

    private ?int $quality = null;

    /** @var list<string> the service's operations, in order, as it writes them (docs/api.md) */
    private array $operations = [];

    /** The image a watermark() or insert() lays over this one: the request's `watermark` file part. */
    private ?string $watermark = null;

    /** Padding's colour and background()'s differ: GD fills only the transparency with background(). */
    private bool $twoColours = false;

    /** What the operations do to the output's size: pixels an expanding border adds, a quarter turn. */
    private int $grown = 0;

    private bool $turned = false;

    private function __construct(private int $sourceWidth, private int $sourceHeight)
    {
        $this->regionWidth = $sourceWidth;
        $this->regionHeight = $sourceHeight;
        $this->width = $sourceWidth;
        $this->height = $sourceHeight;
    }

    /** @param  list<array>  $calls  [method, ...arguments] in the order spatie/image receives them */
    public static function of(int $sourceWidth, int $sourceHeight, array $calls): self
    {
        $plan = new self($sourceWidth, $sourceHeight);
        foreach ($calls as $call) {
            $plan->apply((string) $call[0], array_slice($call, 1));
        }

        return $plan;
    }

    public function width(): int
    {
        return ($this->turned ? ($this->canvas[1] ?? $this->height) : ($this->canvas[0] ?? $this->width)) + $this->grown;
    }

    public function height(): int
    {
        return ($this->turned ? ($this->canvas[0] ?? $this->width) : ($this->canvas[1] ?? $this->height)) + $this->grown;
    }

    public function isSupported(): bool
    {
        return $this->unsupported === [];
    }

    /**
     * Whether it pads with a colour that no background() call asked for. spatie/image keeps a transparent
     * image's own transparency inside such padding, where imgopt flattens the image onto the colour: the
     * same only for an opaque image.
     */
    public function padsWithColour(): bool
    {
        return $this->canvas !== null && (! $this->flattens || $this->twoColours);
    }

    /** The output format: the last format() call's, else the extension of the path it is saved to. */
    public function format(?string $savePath = null): ?string
    {
        $name = $this->format ?? ($savePath !== null ? pathinfo($savePath, PATHINFO_EXTENSION) : null);

        return self::FORMATS[strtolower((string) $name)] ?? null;
    }

    /**
     * The /convert fields that make this output (saved to $savePath, whose extension is the format when no
     * format() was called).
     */
    public function fields(?string $savePath = null): array
    {
        $format = $this->format($savePath);
        $fields = ['format' => $format, 'animated' => false];
        $quality = $this->quality ?? self::GD_DEFAULT_QUALITY[$format] ?? null;
        if ($quality >= 100 && in_array($format, self::LOSSLESS_AT_100, true)) {
            $fields['lossless'] = true;
        } elseif ($quality !== null) {
            $fields['quality'] = max(1, min(100, $quality));
        }
        [$x, $y, $width, $height] = $this->region();
        if ([$x, $y, $width, $height] !== [0, 0, $this->sourceWidth, $this->sourceHeight]) {
            $fields['crop'] = [$x, $y, $width, $height];
        }
        if ($this->canvas !== null) {
            $fields += ['width' => $this->canvas[0], 'height' => $this->canvas[1], 'fit' => 'contain'];
        } elseif ([$this->width, $this->height] !== [$width, $height]) {
            $fields += ['width' => $this->width, 'height' => $this->height, 'fit' => 'fill'];
        }
        if ($this->width > $width || $this->height > $height) {
            $fields['enlarge'] = true;
        }
        if ($this->background !== null) {
            $fields['background'] = $this->background;
        } elseif ($format === 'jpeg') {
            $fields['background'] = self::JPEG_UNDER_TRANSPARENCY;
        }
        if ($this->operations !== []) {
            $fields['operations'] = implode(':', $this->operations);
        }
        if ($this->watermark !== null) {
            $fields['watermark'] = $this->watermark;
        }

        return $fields;
    }

    /**
     * The same region and framing at another output size, format and quality: a responsive width of this
     * conversion, or its placeholder.
     */
    public function scaledFields(int $width, int $height, string $format, ?int $quality = null): array
    {
        $scaled = clone $this;
        if ($scaled->canvas !== null) {
            $factor = $width / $scaled->canvas[0];
            $scaled->canvas = [$width, $height];
            $scaled->width = max(1, (int) round($scaled->width * $factor));
            $scaled->height = max(1, (int) round($scaled->height * $factor));
        } else {
            $scaled->width = $width;
            $scaled->height = $height;
        }
        $scaled->quality = $quality ?? $scaled->quality;
        $scaled->format = $format;

        return $scaled->fields();
    }

    /**
     * The same region and framing with its widths left to the service (widths=auto, none wider than this
     * output), or null when widths=auto cannot make them: a padded canvas, an enlargement, or an output
     * whose aspect ratio is not its region's.
     */
    public function autoWidthFields(string $format, int $quality, array $limits = []): ?array
    {
        [, , $width, $height] = $this->region();
        if ($this->canvas !== null || $this->width > $width || abs($this->width * $height / $width - $this->height) > 1.0) {
            return null;
        }
        $fields = $this->scaledFields($this->width, $this->height, $format, $quality);
        unset($fields['width'], $fields['height'], $fields['fit'], $fields['enlarge']);

        return $fields + ['widths' => 'auto', 'max_width' => $this->width] + $limits;
    }

    /** @return array{int, int, int, int} the region as whole pixels inside the source */
    private function region(): array
    {
        $x = max(0, min($this->sourceWidth - 1, (int) round($this->x)));
        $y = max(0, min($this->sourceHeight - 1, (int) round($this->y)));
        $width = max(1, min($this->sourceWidth - $x, (int) round($this->regionWidth)));
        $height = max(1, min($this->sourceHeight - $y, (int) round($this->regionHeight)));

        return [$x, $y, $width, $height];
    }

    private function apply(string $method, array $arguments): void
    {
        if (in_array($method, self::IGNORED, true)) {
            return;
        }
        $geometric = ['width', 'height', 'resize', 'fit', 'crop', 'manualCrop', 'focalCrop', 'focalCropAndResize', 'resizeCanvas'];
        if ($this->canvas !== null && in_array($method, $geometric, true)) {
            $this->unsupported[] = "{$method} after padding";

            return;
        }
        // The service applies its operations after the geometry: a resize or crop after one would differ.
        if ($this->operations !== [] && in_array($method, $geometric, true)) {
            $this->unsupported[] = "{$method} after a pixel operation";

            return;
        }
        if ($method === 'watermark' || $method === 'insert') {
            $this->watermark($method, $arguments);

            return;
        }
        if (($operation = self::operation($method, $arguments)) !== null) {
            $operation === '' ? $this->unsupported[] = $method : $this->operations[] = $operation;
            if ($method === 'border' && $operation !== '' && self::value($arguments[1] ?? null) === 'expand') {
                $this->grown += 2 * (int) self::value($arguments[0]);
            }

            return;
        }
        match ($method) {
            'format' => $this->setFormat((string) $arguments[0]),
            'quality' => $this->quality = (int) $arguments[0],
            'background' => $this->background((string) $arguments[0]),
            'orientation' => $this->orientation($arguments[0] ?? null),
            'width' => $this->widthTo((int) $arguments[0], $arguments[1] ?? [self::PRESERVE_ASPECT_RATIO]),
            'height' => $this->heightTo((int) $arguments[0], $arguments[1] ?? [self::PRESERVE_ASPECT_RATIO]),
            'resize' => $this->resizeTo((int) $arguments[0], (int) $arguments[1], $arguments[2] ?? []),
            'fit' => $this->fit((string) $arguments[0], $arguments[1] ?? null, $arguments[2] ?? null, (bool) ($arguments[3] ?? false), (string) ($arguments[4] ?? '#ffffff')),
            'crop' => $this->crop((int) $arguments[0], (int) $arguments[1], (string) ($arguments[2] ?? 'center')),
            'manualCrop' => $this->manualCrop((int) $arguments[0], (int) $arguments[1], $arguments[2] ?? null, $arguments[3] ?? null),
            'focalCrop' => $this->focalCrop((int) $arguments[0], (int) $arguments[1], $arguments[2] ?? null, $arguments[3] ?? null),
            'focalCropAndResize' => $this->focalCropAndResize((int) $arguments[0], (int) $arguments[1], $arguments[2] ?? null, $arguments[3] ?? null),
            'resizeCanvas' => $this->resizeCanvas($arguments[0] ?? null, $arguments[1] ?? null, (string) ($arguments[2] ?? 'center'), (bool) ($arguments[3] ?? false), (string) ($arguments[4] ?? '#000000')),
            default => $this->unsupported[] = $method,
        };
    }

    /**
     * A spatie/image pixel operation as the service writes it (sharpen(10)); '' when its arguments are ones
     * the service does not take (a colour that is not hex); null when $method is not one.
     */
    private static function operation(string $method, array $arguments): ?string
    {
        $value = fn (int $index, mixed $default = null) => self::value($arguments[$index] ?? $default);

        return match ($method) {
            'sharpen', 'blur', 'brightness', 'contrast', 'gamma' => "{$method}(".$value(0).')',
            'pixelate' => 'pixelate('.$value(0, 50).')',
            'greyscale', 'sepia' => $method,
            'colorize' => 'colorize('.$value(0).', '.$value(1).', '.$value(2).')',
            'flip' => 'flip('.$value(0).')',
            'border' => ($colour = self::hex((string) $value(2, '000000'))) === null
                ? ''
                : 'border('.$value(0).', '.$value(1).', '.$colour.')',
            default => null,
        };
    }

    /**
     * spatie/image's watermark() (sized, placed with padding, at an opacity) and insert() (its own size, placed
     * x and y from the position) as the service's watermark operation, on the file it names. One watermark
     * image a conversion: the service takes one `watermark` part.
     */
    private function watermark(string $method, array $arguments): void
    {
        $path = $arguments[0] ?? null;
        if (! is_string($path) || ! is_file($path)) {
            $this->unsupported[] = "{$method} of an image that is not a file";

            return;
        }
        if ($this->watermark !== null && realpath($this->watermark) !== realpath($path)) {
            $this->unsupported[] = "{$method} of a second image";

            return;
        }
        $this->watermark = $path;
        $value = fn (int $index, mixed $default) => self::value($arguments[$index] ?? $default);
        $named = $method === 'insert'
            ? ['position' => $value(1, 'center'), 'padding_x' => $value(2, 0), 'padding_y' => $value(3, 0), 'alpha' => $value(4, 100)]
            : [
                'position' => $value(1, 'bottom-right'), 'padding_x' => $value(2, 0), 'padding_y' => $value(3, 0),
                'padding_unit' => $value(4, 'pixel'), 'width' => $value(5, 0), 'width_unit' => $value(6, 'pixel'),
                'height' => $value(7, 0), 'height_unit' => $value(8, 'pixel'), 'fit' => $value(9, 'contain'), 'alpha' => $value(10, 100),
            ];
        $this->operations[] = 'watermark('.implode(', ', array_map(fn ($key, $argument) => "{$key}={$argument}", array_keys($named), $named)).')';
    }

    /** The image the watermark operation lays over, or null. */
    public function watermarkFile(): ?string
    {
        return $this->watermark;
    }

    /** An enum's value, or the value itself. */
    private static function value(mixed $value): mixed
    {
        return $value instanceof \BackedEnum ? $value->value : $value;
    }

    /** A colour as #rrggbb or #rgb, or null when it is written otherwise (rgb(), a name). */
    private static function hex(string $colour): ?string
    {
        $hex = ltrim(trim($colour), '#');

        return preg_match('/^([0-9a-f]{3}|[0-9a-f]{6})$/i', $hex) === 1 ? '#'.strtolower($hex) : null;
    }

    private function setFormat(string $format): void
    {
        if (! isset(self::FORMATS[strtolower($format)])) {
            $this->unsupported[] = "format({$format})";
        }
        $this->format = strtolower($format);
    }

    /**
     * spatie/image's background(): GD lays the image over the colour, which fills only its transparency. After
     * padding the padding keeps its own colour; the service pads and flattens in one colour, so two colours
     * are the same only on an opaque image (RecordedImage checks, padsWithColour()).
     */
    private function background(string $colour): void
    {
        $padding = $this->canvas !== null ? $this->background : null;
        $this->flattens = $this->setBackground($colour);
        if ($padding !== null && $this->flattens && $padding !== $this->background) {
            $this->twoColours = true;
            $this->background = $padding;
        }
    }

    private function setBackground(string $colour): bool
    {
        $hex = ltrim(trim($colour), '#');
        if (! preg_match('/^([0-9a-f]{3}|[0-9a-f]{6})$/i', $hex)) {
            $this->unsupported[] = "background({$colour})";

            return false;
        }
        $this->background = '#'.strtolower($hex);

        return true;
    }

    private function orientation(mixed $degrees): void
    {
        // imgopt turns every image upright from its EXIF orientation, as spatie/image does on load; a turn on
        // top of that is the service's orientation operation.
        $degrees = self::value($degrees);
        if ($degrees !== null && (int) $degrees !== 0) {
            $this->operations[] = 'orientation('.(int) $degrees.')';
            $this->turned = $this->turned !== in_array((int) $degrees, [90, 270, -90], true);
        }
    }

    /** spatie/image's width(): the height from the aspect ratio, then resize() with the constraints. */
    private function widthTo(int $width, array $constraints): void
    {
        $this->resizeTo($width, (int) round($width / ($this->width / $this->height)), $constraints);
    }

    private function heightTo(int $height, array $constraints): void
    {
        $this->resizeTo((int) round($height * ($this->width / $this->height)), $height, $constraints);
    }

    /** spatie/image's Size::resize: the larger of the width-first and height-first fits that fits the box. */
    private function resizeTo(int $width, int $height, array $constraints): void
    {
        [$this->width, $this->height] = self::resized($this->width, $this->height, $width, $height, $constraints);
    }

    /** @return array{int, int} */
    private static function resized(int $currentWidth, int $currentHeight, int $width, int $height, array $constraints): array
    {
        $byWidth = self::resizedWidth(...[...self::resizedHeight($currentWidth, $currentHeight, $height, $constraints), $width, $constraints]);
        $byHeight = self::resizedHeight(...[...self::resizedWidth($currentWidth, $currentHeight, $width, $constraints), $height, $constraints]);

        return $byHeight[0] <= $width && $byHeight[1] <= $height ? $byHeight : $byWidth;
    }

    /** @return array{int, int} */
    private static function resizedWidth(int $currentWidth, int $currentHeight, int $width, array $constraints): array
    {
        $keep = in_array(self::PRESERVE_ASPECT_RATIO, $constraints, true);
        $noUpsize = in_array(self::DO_NOT_UPSIZE, $constraints, true);
        $newWidth = $noUpsize ? min($width, $currentWidth) : $width;
        $newHeight = $currentHeight;
        if ($keep) {
            $calculated = max(1, (int) round($newWidth / ($currentWidth / $currentHeight)));
            $newHeight = $noUpsize ? min($calculated, $currentHeight) : $calculated;
        }

        return [$newWidth, $newHeight];
    }

    /** @return array{int, int} */
    private static function resizedHeight(int $currentWidth, int $currentHeight, int $height, array $constraints): array
    {
        $keep = in_array(self::PRESERVE_ASPECT_RATIO, $constraints, true);
        $noUpsize = in_array(self::DO_NOT_UPSIZE, $constraints, true);
        $newHeight = $noUpsize ? min($height, $currentHeight) : $height;
        $newWidth = $currentWidth;
        if ($keep) {
            $calculated = max(1, (int) round($newHeight * ($currentWidth / $currentHeight)));
            $newWidth = $noUpsize ? min($calculated, $currentWidth) : $calculated;
        }

        return [$newWidth, $newHeight];
    }

    /** spatie/image's fit(): each Fit's constraints, Fit::Crop's cover crop, Fill's padded canvas. */
    private function fit(string $fit, ?int $width, ?int $height, bool $relative, string $background): void
    {
        if ($fit === 'crop') {
            $this->fitCrop($width ?? $this->width, $height ?? $this->height);

            return;
        }
        if ($fit === 'fill-max') {
            if ($width === null || $height === null) {
                $this->unsupported[] = 'fit(fill-max) without both sides';

                return;
            }
            $this->resizeTo($width, $height, [self::PRESERVE_ASPECT_RATIO]);
            $this->resizeCanvas($width, $height, 'center', $relative, $background);

            return;
        }
        $constraints = match ($fit) {
            'contain' => [self::PRESERVE_ASPECT_RATIO],
            'fill', 'max' => [self::PRESERVE_ASPECT_RATIO, self::DO_NOT_UPSIZE],
            'stretch' => [],
            default => null,
        };
        if ($constraints === null) {
            $this->unsupported[] = "fit({$fit})";

            return;
        }
        $this->resizeTo($width ?? $this->width, $height ?? $this->height, $constraints);
        if ($fit === 'fill') {
            $this->resizeCanvas($width, $height, 'center', $relative, $background);
        }
    }

    private function fitCrop(int $width, int $height): void
    {
        [$originalWidth, $originalHeight] = [$this->width, $this->height];
        if ($originalWidth < $width || $originalHeight < $height) {
            $width < $height ? $this->heightTo($height, [self::PRESERVE_ASPECT_RATIO]) : $this->widthTo($width, [self::PRESERVE_ASPECT_RATIO]);
        }
        if ($originalWidth / $originalHeight > $width / $height) {
            $this->heightTo($height, [self::PRESERVE_ASPECT_RATIO]);
        } else {
            $this->widthTo($width, [self::PRESERVE_ASPECT_RATIO]);
        }
        $this->resizeCanvas($width, $height, 'center', false, '#ffffff');
    }

    /** Cut (x, y, width, height) of the current image: the region shrinks at the current scale. */
    private function cut(int $x, int $y, int $width, int $height): void
    {
        $scaleX = $this->regionWidth / $this->width;
        $scaleY = $this->regionHeight / $this->height;
        $this->x += $x * $scaleX;
        $this->y += $y * $scaleY;
        $this->regionWidth = $width * $scaleX;
        $this->regionHeight = $height * $scaleY;
        $this->width = $width;
        $this->height = $height;
    }

    /** spatie/image's manualCrop(): centred when neither x nor y is given, clamped to the image. */
    private function manualCrop(int $width, int $height, ?int $x, ?int $y): void
    {
        if ($x === null && $y === null) {
            [$left, $top] = [intdiv($this->width, 2) - intdiv($width, 2), intdiv($this->height, 2) - intdiv($height, 2)];
        } else {
            [$left, $top] = [$x ?? 0, $y ?? 0];
        }
        $width = min($width, $this->width - ($x ?? 0));
        $height = min($height, $this->height - ($y ?? 0));
        $this->cut(max(0, $left), max(0, $top), max(1, $width), max(1, $height));
    }

    /** spatie/image's crop(): a box of the current image at a CropPosition. */
    private function crop(int $width, int $height, string $position): void
    {
        $width = min($width, $this->width);
        $height = min($height, $this->height);
        [$percentX, $percentY] = match ($position) {
            'topLeft' => [0, 0], 'top' => [50, 0], 'topRight' => [100, 0],
            'left' => [0, 50], 'center' => [50, 50], 'right' => [100, 50],
            'bottomLeft' => [0, 100], 'bottom' => [50, 100], 'bottomRight' => [100, 100],
            default => [null, null],
        };
        if ($percentX === null) {
            $this->unsupported[] = "crop({$position})";

            return;
        }
        $offsetX = min(max(0, (int) (($this->width * $percentX / 100) - ($width / 2))), $this->width - $width);
        $offsetY = min(max(0, (int) (($this->height * $percentY / 100) - ($height / 2))), $this->height - $height);
        $this->manualCrop(min($width, $this->width - $offsetX), min($height, $this->height - $offsetY), $offsetX, $offsetY);
    }

    /** spatie/image's focalCrop(): a box centred on a point (pixels), kept inside the image. */
    private function focalCrop(int $width, int $height, ?int $centreX, ?int $centreY): void
    {
        $width = min($width, $this->width);
        $height = min($height, $this->height);
        if ($centreX > 0) {
            $centreX = max(0, min($this->width - $width, (int) ($centreX - ($width / 2))));
        }
        if ($centreY > 0) {
            $centreY = max(0, min($this->height - $height, (int) ($centreY - ($height / 2))));
        }
        $this->manualCrop($width, $height, $centreX, $centreY);
    }

    /** spatie/image's focalCropAndResize(): the box's aspect around a point (percent), then resized to it. */
    private function focalCropAndResize(int $width, int $height, mixed $centreX, mixed $centreY): void
    {
        $target = $width / $height;
        if ($this->width / $this->height > $target) {
            $cropHeight = $this->height;
            $cropWidth = (int) round($cropHeight * $target);
        } else {
            $cropWidth = $this->width;
            $cropHeight = (int) round($cropWidth / $target);
        }
        $focalX = $this->width * ((float) $centreX / 100);
        $focalY = $this->height * ((float) $centreY / 100);
        $cropX = max(0, min((int) ($focalX - $cropWidth / 2), $this->width - $cropWidth));
        $cropY = max(0, min((int) ($focalY - $cropHeight / 2), $this->height - $cropHeight));
        $this->manualCrop($cropWidth, $cropHeight, $cropX, $cropY);
        $this->widthTo($width, [self::PRESERVE_ASPECT_RATIO]);
        $this->heightTo($height, [self::PRESERVE_ASPECT_RATIO]);
    }

    /**
     * spatie/image's resizeCanvas(): a smaller side is cut at the position, a larger one padded. imgopt pads
     * centred, in one background colour, and last.
     */
    private function resizeCanvas(?int $width, ?int $height, string $position, bool $relative, string $background): void
    {
        $width ??= $this->width;
        $height ??= $this->height;
        if ($relative) {
            $width += $this->width;
            $height += $this->height;
        }
        $width = $width <= 0 ? $width + $this->width : $width;
        $height = $height <= 0 ? $height + $this->height : $height;
        $pads = $width > $this->width || $height > $this->height;
        if (! in_array($position, self::CENTRE, true)) {
            $this->unsupported[] = "resizeCanvas({$position})";

            return;
        }
        $cutWidth = min($width, $this->width);
        $cutHeight = min($height, $this->height);
        if ([$cutWidth, $cutHeight] !== [$this->width, $this->height]) {
            $this->cut(
                intdiv($this->width, 2) - intdiv($cutWidth, 2),
                intdiv($this->height, 2) - intdiv($cutHeight, 2),
                $cutWidth,
                $cutHeight,
            );
        }
        if ($pads) {
            // imgopt's contain scales the region to touch the canvas: the content must already touch it.
            if ($this->width !== $width && $this->height !== $height) {
                $this->unsupported[] = 'resizeCanvas(a margin on every side)';

                return;
            }
            $flattenedOnto = $this->flattens ? $this->background : null;
            $this->canvas = [$width, $height];
            $this->setBackground($background);
            $this->twoColours = $this->twoColours || ($flattenedOnto !== null && $flattenedOnto !== $this->background);
        }
    }
}
