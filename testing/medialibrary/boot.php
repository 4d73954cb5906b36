<?php

// Boot the Laravel app at $appRoot as artisan does, from a script outside it (an app need not have tinker).
function boot_laravel_app(string $appRoot): Illuminate\Foundation\Application
{
    require is_file("{$appRoot}/bootstrap/autoload.php") ? "{$appRoot}/bootstrap/autoload.php" : "{$appRoot}/vendor/autoload.php";
    $app = require "{$appRoot}/bootstrap/app.php";
    $app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();

    return $app;
}
