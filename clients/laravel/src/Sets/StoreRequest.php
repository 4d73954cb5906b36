<?php

namespace Imgopt\Laravel\Sets;

use SplFileInfo;

/** One upload for Client::storeMany(): what to send, which set to make, and where the files go. */
class StoreRequest
{
    /** @param  Upload|SplFileInfo|string  $file */
    public function __construct(
        public $file,
        public string $set = 'default',
        public string $folder = '',
        public ?string $disk = null,
        public ?string $sourceDisk = null,
    ) {
    }
}
