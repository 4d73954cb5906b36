<?php

namespace Imgopt\Laravel\Tests;

use Illuminate\Config\Repository;
use Illuminate\Container\Container;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\MediaLibrary\Jobs\WaitsForTheService;
use PHPUnit\Framework\TestCase;

/** The media library's jobs while the service cannot answer: back to the queue, for how long, until when. */
class WaitsForTheServiceTest extends TestCase
{
    protected function setUp(): void
    {
        $container = new Container();
        $container->instance('config', new Repository(['imgopt' => ['queue' => ['tries' => 3, 'backoff' => [10, 60, 300], 'timeout' => 120]]]));
        Container::setInstance($container);
    }

    protected function tearDown(): void
    {
        Container::setInstance(null);
    }

    public function test_the_service_down_releases_the_job_after_the_backoff_for_its_attempt(): void
    {
        foreach ([1 => 10, 2 => 60] as $attempt => $seconds) {
            $job = self::job($attempt);
            $this->assertFalse($job->run(fn () => throw ImgoptException::connectionFailed(new \RuntimeException('refused'))));
            $this->assertSame([$seconds], $job->released);
        }
    }

    public function test_a_longer_retry_after_wins_and_a_refused_token_waits_too(): void
    {
        $job = self::job(1);
        $job->run(fn () => throw new ImgoptException('full', 'overloaded', 503, null, 120));
        $this->assertSame([120], $job->released);

        $job = self::job(2);
        $job->run(fn () => throw new ImgoptException('no', 'unauthorized', 401));
        $this->assertSame([60], $job->released);
    }

    public function test_a_bad_file_fails_at_once_and_the_last_attempt_fails_too(): void
    {
        $job = self::job(1);
        try {
            $job->run(fn () => throw new ImgoptException('not an image', 'unsupported_format', 415));
            $this->fail('a bad file must fail the job');
        } catch (ImgoptException $error) {
            $this->assertSame('unsupported_format', $error->errorCode);
        }
        $this->assertSame([], $job->released);

        $job = self::job(3);
        $this->expectException(ImgoptException::class);
        $job->run(fn () => throw ImgoptException::connectionFailed(new \RuntimeException('refused')));
    }

    public function test_the_tries_and_timeout_are_the_packages(): void
    {
        $job = self::job(1);
        $this->assertSame([3, 120], [$job->tries, $job->timeout]);
        $this->assertTrue($job->run(fn () => true));
    }

    /** A queued job at its nth attempt, recording what it is released for. */
    private static function job(int $attempt): object
    {
        return new class($attempt)
        {
            use WaitsForTheService;

            public $job = 'on a queue';

            /** @var list<int> */
            public array $released = [];

            public function __construct(private int $attempt)
            {
                $this->waitingForTheService();
            }

            public function attempts(): int
            {
                return $this->attempt;
            }

            public function release($delay = 0): void
            {
                $this->released[] = $delay;
            }

            public function run(\Closure $work): bool
            {
                return $this->orWaitForTheService($work);
            }
        };
    }
}
