<?php

namespace Imgopt\Laravel\Tests;

use Illuminate\Contracts\Filesystem\Factory as FilesystemFactory;
use LogicException;

/** A filesystem factory for callers that store nothing: the client's tests and scripts without an app. */
class NoStorage implements FilesystemFactory
{
    public function disk($name = null)
    {
        throw new LogicException('nothing is stored here');
    }
}
