<?php

namespace Imgopt\Laravel\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldBeUnique;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Database\Eloquent\Model;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Queue\SerializesModels;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Throwable;

/**
 * Makes one model attribute's rendition set with one /variants request and keeps its manifest. One job per
 * model, attribute and set is queued at a time. What a retry can fix (the service unreachable or full) is
 * retried with the configured backoff; a bad upload fails at once, and failed() records its error code.
 */
class GenerateRenditions implements ShouldQueue, ShouldBeUnique
{
    use Dispatchable, InteractsWithQueue, Queueable, SerializesModels;

    public $tries;

    public $backoff;

    public $timeout;

    public $uniqueFor;

    /** @param  Model  $model  a model that uses HasRenditions */
    public function __construct(public Model $model, public string $attribute, public ?string $set = null)
    {
        $queue = config('imgopt.queue');
        $this->tries = (int) $queue['tries'];
        $this->backoff = $queue['backoff'];
        $this->timeout = (int) $queue['timeout'];
        $this->uniqueFor = $this->timeout * max(1, $this->tries);
        $this->onConnection($queue['connection']);
        $this->onQueue($queue['name']);
    }

    public function uniqueId(): string
    {
        return get_class($this->model).':'.$this->model->getKey().':'.$this->attribute.':'.($this->set ?? '');
    }

    public function handle(Client $client): void
    {
        try {
            $this->model->generateRenditions($this->attribute, $client, $this->set, $this->job ? 'job-'.$this->job->getJobId() : null);
        } catch (ImgoptException $error) {
            if ($error->isRetryable()) {
                throw $error;
            }
            $this->fail($error);
        }
    }

    public function failed(Throwable $error): void
    {
        $code = $error instanceof ImgoptException ? $error->errorCode : 'job_failed';
        $this->model->recordRenditionError($this->attribute, $code);
    }
}
