<?php

// A Composer install has vendor/autoload.php; the Debian harness (tests/test_laravel_package.py) has
// Laravel, Guzzle and PHPUnit on PHP's include_path instead, and this package's classes by PSR-4 here.
if (is_file(__DIR__.'/../vendor/autoload.php')) {
    require __DIR__.'/../vendor/autoload.php';

    return;
}

require 'Illuminate/autoload.php';
require 'GuzzleHttp/autoload.php';

spl_autoload_register(function (string $class) {
    foreach (['Imgopt\\Laravel\\Tests\\' => __DIR__.'/', 'Imgopt\\Laravel\\' => __DIR__.'/../src/'] as $prefix => $directory) {
        if (str_starts_with($class, $prefix)) {
            $file = $directory.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
            if (is_file($file)) {
                require $file;
            }

            return;
        }
    }
});
