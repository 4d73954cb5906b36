<?php
// Laravel and Guzzle from Debian (PHP's include_path), then what Composer installed.
require 'Illuminate/autoload.php';
require 'GuzzleHttp/autoload.php';
require __DIR__.'/../vendor/autoload.php';
