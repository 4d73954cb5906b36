<?php

namespace Imgopt\Laravel\Http;

use Illuminate\Contracts\Filesystem\Factory as FilesystemFactory;
use Imgopt\Laravel\Exceptions\ImgoptException;
use InvalidArgumentException;
use SplFileInfo;

/**
 * The bytes to send, wherever they are: a local file or an UploadedFile, a path on a Storage disk, or bytes
 * in memory. The service reads the format from the bytes, so no name or MIME type is trusted or needed.
 */
class Upload
{
    /**
     * $contents are the bytes, or null when $localPath holds them: a local file is streamed to the service,
     * so a 10 MB upload costs the PHP process no 10 MB string.
     */
    public function __construct(
        private ?string $contents,
        public string $description = 'upload',
        private ?string $localPath = null,
    ) {
    }

    public static function fromContents(string $contents): self
    {
        return new self($contents);
    }

    /**
     * An Upload, an UploadedFile (any SplFileInfo), a local file's path, or else a path on $disk.
     *
     * @param  Upload|SplFileInfo|string  $file
     */
    public static function from($file, FilesystemFactory $storage, ?string $disk = null): self
    {
        if ($file instanceof self) {
            return $file;
        }
        if ($file instanceof SplFileInfo) {
            return self::fromLocalFile($file->getRealPath() ?: $file->getPathname());
        }
        if (! is_string($file) || $file === '') {
            throw new InvalidArgumentException('imgopt needs an UploadedFile, a file path or a path on a disk');
        }
        if (is_file($file)) {
            return self::fromLocalFile($file);
        }
        $filesystem = $storage->disk($disk);
        if (! $filesystem->exists($file)) {
            throw new ImgoptException("no file at '{$file}' on disk '".($disk ?? 'default')."'", 'source_missing');
        }

        return new self((string) $filesystem->get($file), $file);
    }

    public static function fromLocalFile(string $path): self
    {
        if (! is_file($path) || ! is_readable($path)) {
            throw new ImgoptException("cannot read '{$path}'", 'source_missing');
        }

        return new self(null, basename($path), $path);
    }

    /** The bytes as a string (read now, for a local file). */
    public function contents(): string
    {
        if ($this->contents !== null) {
            return $this->contents;
        }
        $contents = @file_get_contents($this->localPath);
        if ($contents === false) {
            throw new ImgoptException("cannot read '{$this->localPath}'", 'source_missing');
        }

        return $contents;
    }

    /** What a request attaches: a fresh stream of a local file (one per attempt), or the bytes. */
    public function body()
    {
        if ($this->contents !== null) {
            return $this->contents;
        }
        $stream = @fopen($this->localPath, 'rb');
        if ($stream === false) {
            throw new ImgoptException("cannot read '{$this->localPath}'", 'source_missing');
        }

        return $stream;
    }

    public function size(): int
    {
        return $this->contents !== null ? strlen($this->contents) : (int) filesize($this->localPath);
    }

    /** The first 16 hex digits of the bytes' SHA-256: a new upload gets new paths. */
    public function hash(): string
    {
        $hash = $this->contents !== null ? hash('sha256', $this->contents) : hash_file('sha256', $this->localPath);

        return substr((string) $hash, 0, 16);
    }
}
