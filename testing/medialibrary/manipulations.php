<?php

// For tests/test_medialibrary.py, inside an app with spatie/image and imgopt/laravel: each case of a JSON file
// of manipulation lists made by spatie/image's GD driver and by imgopt's (with the size imgopt's driver
// predicts), each saved as PNG in WORK_DIR, printed as JSON.
//
//   php manipulations.php APP_ROOT IMAGE CASES.json WORK_DIR

use Imgopt\Laravel\MediaLibrary\ImgoptDriver;
use Spatie\Image\Enums\Constraint;
use Spatie\Image\Enums\CropPosition;
use Spatie\Image\Enums\Fit;
use Spatie\Image\Image;

require __DIR__.'/boot.php';

[$script, $appRoot, $source, $casesFile, $work] = $argv;
boot_laravel_app($appRoot);

function arguments(array $call): array
{
    [$method, $arguments] = [$call[0], array_slice($call, 1)];

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

        return $value;
    }, $arguments);
}

$results = [];
foreach (json_decode(file_get_contents($casesFile), true) as $name => $calls) {
    $row = ['name' => $name];
    foreach (['gd' => 'gd', 'imgopt' => ImgoptDriver::class] as $label => $driver) {
        $path = "{$work}/{$name}-{$label}.png";
        try {
            $image = Image::useImageDriver($driver)->loadFile($source);
            foreach ($calls as $call) {
                $image->{$call[0]}(...arguments($call));
            }
            if ($label === 'imgopt') {
                $row['predicted'] = [$image->getWidth(), $image->getHeight()];
            }
            $image->format('png')->save($path);
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
