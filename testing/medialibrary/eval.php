<?php

// php eval.php APP_ROOT BASE64_CODE: run PHP inside the booted app and print what it returns.
require __DIR__.'/boot.php';

[$script, $appRoot, $code] = $argv;
boot_laravel_app($appRoot);
echo (string) eval(base64_decode($code)), "\n";
