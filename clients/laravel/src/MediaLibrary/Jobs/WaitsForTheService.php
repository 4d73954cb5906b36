<?php

namespace Imgopt\Laravel\MediaLibrary\Jobs;

use Closure;
use Imgopt\Laravel\Exceptions\ImgoptException;

/**
 * A medialibrary job that waits for the service instead of failing when the service is why nothing was made
 * (down, overloaded, refusing the token): released back to the queue after the package's backoff for this
 * attempt, or the service's Retry-After when that is longer, up to imgopt.queue.tries attempts. Anything
 * else (a bad file, a manipulation imgopt cannot make) fails the job at once, as medialibrary's own does.
 */
trait WaitsForTheService
{
    /** @var int the attempts before the queue fails the job */
    public $tries;

    /** @var int seconds a worker may spend on one attempt */
    public $timeout;

    protected function waitingForTheService(): void
    {
        $queue = config('imgopt.queue');
        $this->tries = (int) $queue['tries'];
        $this->timeout = (int) $queue['timeout'];
    }

    protected function orWaitForTheService(Closure $work): bool
    {
        try {
            return $work();
        } catch (ImgoptException $error) {
            if (! $error->isTheServices() || $this->job === null || $this->attempts() >= $this->tries) {
                throw $error;
            }
            $this->release($this->secondsToWait($error));

            return false;
        }
    }

    private function secondsToWait(ImgoptException $error): int
    {
        $backoff = array_values((array) config('imgopt.queue.backoff'));
        $ours = (int) ($backoff[min($this->attempts(), count($backoff)) - 1] ?? 0);

        return max($ours, (int) $error->retryAfter);
    }
}
