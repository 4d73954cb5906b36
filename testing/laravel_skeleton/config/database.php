<?php
return [
    'default' => 'sqlite',
    'connections' => ['sqlite' => ['driver' => 'sqlite', 'database' => env('DB_DATABASE'), 'prefix' => '', 'foreign_key_constraints' => true]],
    'migrations' => 'migrations',
];
