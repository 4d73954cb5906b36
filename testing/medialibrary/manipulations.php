<?php

// For tests/test_medialibrary.py, inside an app with spatie/image and imgopt/laravel: each case of a JSON file
// of manipulation lists made by spatie/image's GD driver and by imgopt's (with the size imgopt's driver
// predicts), each saved in WORK_DIR as PNG, or in the format the list's last format() call names, printed as
// JSON.
//
//   php manipulations.php APP_ROOT IMAGE CASES.json WORK_DIR

use Imgopt\Laravel\MediaLibrary\ImgoptDriver;
use Spatie\Image\Enums\AlignPosition;
use Spatie\Image\Enums\BorderType;
use Spatie\Image\Enums\Constraint;
use Spatie\Image\Enums\CropPosition;
use Spatie\Image\Enums\Fit;
use Spatie\Image\Enums\FlipDirection;
use Spatie\Image\Enums\Orientation;
use Spatie\Image\Enums\Unit;
use Spatie\Image\Image;

require __DIR__.'/boot.php';

[$script, $appRoot, $source, $casesFile, $work] = $argv;
boot_laravel_app($appRoot);

function arguments(array $call): array
{
    [$method, $arguments] = [$call[0], array_slice($call, 1)];
    if ($method === 'watermark' || $method === 'insert') {
        return array_map(fn ($value) => is_string($value) ? (AlignPosition::tryFrom($value) ?? Unit::tryFrom($value) ?? Fit::tryFrom($value) ?? $value) : $value, $arguments);
    }

    return array_map(function ($value) use ($method) {
        if (is_array($value)) {
            return array_map(fn ($constraint) => Constraint::from($constraint), $value);
        }
        if ($method === 'fit' && is_string($value) && Fit::tryFrom($value)) {
            return Fit::from($value);
        }
        if ($method === 'crop' && is_string($value) && CropPosition::tryFrom($value)) {
            return CropPosition::from($value);
        }
        if ($method === 'flip' && is_string($value)) {
            return FlipDirection::from($value);
        }
        if ($method === 'orientation' && is_int($value)) {
            return Orientation::from($value);
        }
        if ($method === 'border' && is_string($value) && BorderType::tryFrom($value)) {
            return BorderType::from($value);
        }

        return $value;
    }, $arguments);
}

$results = [];
foreach (json_decode(file_get_contents($casesFile), true) as $name => $calls) {
    $row = ['name' => $name];
    foreach (['gd' => 'gd', 'imgopt' => ImgoptDriver::class] as $label => $driver) {
        $formats = array_column(array_filter($calls, fn ($call) => $call[0] === 'format'), 1);
        $extension = end($formats) ?: 'png';
        $path = "{$work}/{$name}-{$label}.{$extension}";
        try {
            $image = Image::useImageDriver($driver)->loadFile($source);
            foreach ($calls as $call) {
                $image->{$call[0]}(...arguments($call));
            }
            if ($label === 'imgopt') {
                $row['predicted'] = [$image->getWidth(), $image->getHeight()];
            }
            ($formats === [] ? $image->format('png') : $image)->save($path);
            [$width, $height] = getimagesize($path);
            $row[$label] = [$width, $height];
            $row["{$label}_file"] = $path;
        } catch (Throwable $error) {
            $row[$label] = get_class($error).': '.$error->getMessage();
        }
    }
    $results[] = $row;
}
echo json_encode($results, JSON_PRETTY_PRINT), "\n";
