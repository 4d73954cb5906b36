<?php
namespace App\Http;
class Kernel extends \Illuminate\Foundation\Http\Kernel
{
    protected $middleware = [];
    protected $middlewareGroups = ['web' => [\Illuminate\Routing\Middleware\SubstituteBindings::class]];
}
