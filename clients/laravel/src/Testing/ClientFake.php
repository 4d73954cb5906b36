<?php

namespace Imgopt\Laravel\Testing;

use Illuminate\Contracts\Filesystem\Factory as FilesystemFactory;
use Illuminate\Http\Client\Factory as HttpFactory;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use PHPUnit\Framework\Assert as PHPUnit;

/**
 * Imgopt::fake(): the real client, storage included, with the service replaced by FakeTransport, so an
 * application's tests run without imgopt and can assert what would have been sent.
 */
class ClientFake extends Client
{
    private FakeTransport $fake;

    public function __construct(HttpFactory $http, FilesystemFactory $storage, array $config)
    {
        $this->fake = new FakeTransport();
        parent::__construct($http, $storage, $config, $this->fake);
    }

    /** Answer every following request with this error (null: answer normally again). */
    public function failWith(?string $code, int $status = 422, string $message = 'faked by Imgopt::fake()'): self
    {
        $this->fake->failure = $code === null ? null : new ImgoptException($message, $code, $status, 'fake');

        return $this;
    }

    /** Assert that some request went to $path ('/variants', '/convert', '/info') and passes $filter. */
    public function assertSent(string $path, ?callable $filter = null): void
    {
        $matching = array_filter($this->fake->sent, fn ($sent) => $sent['path'] === $path && ($filter === null || $filter($sent['fields'])));
        PHPUnit::assertNotEmpty($matching, "No request to imgopt {$path} matched.");
    }

    public function assertSentCount(int $count): void
    {
        PHPUnit::assertCount($count, $this->fake->sent, 'imgopt received a different number of requests.');
    }

    public function assertNothingSent(): void
    {
        $this->assertSentCount(0);
    }
}
