<?php

// The CMS set (320/768/1200/1920 px x WebP + AVIF at quality 80) made inside a PHP process, the way a
// Laravel app does it without imgopt: GD or Imagick. Prints seconds of work and the process's peak RSS.
//
//   php bench/laravel/in_process.php gd|imagick PHOTO OUT_DIR

[$script, $engine, $path, $out] = $argv;
const WIDTHS = [320, 768, 1200, 1920];

$started = microtime(true);
if ($engine === 'gd') {
    $image = imagecreatefromjpeg($path);
    $orientation = (@exif_read_data($path) ?: [])['Orientation'] ?? 1;
    $angle = [3 => 180, 6 => 270, 8 => 90][$orientation] ?? 0;
    if ($angle !== 0) {
        $image = imagerotate($image, $angle, 0);
    }
    foreach (WIDTHS as $width) {
        $width = min($width, imagesx($image));
        $resized = imagescale($image, $width, (int) round(imagesy($image) * $width / imagesx($image)), IMG_BICUBIC);
        imagewebp($resized, "{$out}/gd-{$width}.webp", 80);
        imageavif($resized, "{$out}/gd-{$width}.avif", 80);
        imagedestroy($resized);
    }
} else {
    $image = new Imagick($path);
    $image->autoOrient();
    foreach (WIDTHS as $width) {
        foreach (['webp', 'avif'] as $format) {
            $copy = clone $image;
            $copy->resizeImage(min($width, $image->getImageWidth()), 0, Imagick::FILTER_LANCZOS, 1);
            $copy->stripImage();
            $copy->setImageFormat($format);
            $copy->setImageCompressionQuality(80);
            file_put_contents("{$out}/imagick-{$width}.{$format}", $copy->getImageBlob());
            $copy->clear();
        }
    }
}
echo json_encode(['seconds' => microtime(true) - $started, 'peak_rss_kib' => getrusage()['ru_maxrss']]), "\n";
