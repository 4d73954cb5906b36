<?php

namespace Imgopt\Laravel\Console;

use Illuminate\Console\Command;
use Illuminate\Database\Eloquent\Model;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Sets\RenditionSet;

/**
 * Makes the rendition sets of every row of a model again: after a change to config('imgopt.sets'), or to
 * fill in what a failed queue left out. Requests go out --concurrency at a time.
 */
class RegenerateCommand extends Command
{
    protected $signature = 'imgopt:regenerate
        {model : the model class, e.g. App\Models\Post or Post}
        {--set= : only the attributes that make this set}
        {--only-missing : skip attributes whose set is complete with every file on its disk}
        {--concurrency=4 : requests in flight at once}';

    protected $description = 'Make the imgopt rendition sets of a model again';

    public function handle(Client $client): int
    {
        $class = $this->modelClass((string) $this->argument('model'));
        if ($class === null) {
            $this->error("No model class '{$this->argument('model')}' that uses Imgopt\\Laravel\\Concerns\\HasRenditions.");

            return self::FAILURE;
        }
        $concurrency = max(1, (int) $this->option('concurrency'));
        $onlySet = $this->option('set');
        $attributes = array_filter(
            (new $class())->renditionAttributes(),
            fn ($definition) => $onlySet === null || $definition->set === $onlySet,
        );
        if ($attributes === []) {
            $this->error("{$class} has no rendition attributes".($onlySet !== null ? " that make the set '{$onlySet}'" : '').'.');

            return self::FAILURE;
        }

        $total = $class::query()->count() * count($attributes);
        $bar = $this->output->createProgressBar($total);
        $bar->start();
        $stored = $skipped = $empty = 0;
        $failures = [];
        $pending = [];

        $requests = (function () use ($class, $attributes, $client, &$pending, &$skipped, &$empty, $bar) {
            foreach ($class::query()->lazyById(100) as $model) {
                foreach ($attributes as $attribute => $definition) {
                    if ($this->option('only-missing') && $model->hasCompleteRenditions($attribute, $client)) {
                        $skipped++;
                        $bar->advance();

                        continue;
                    }
                    $request = $model->renditionRequest($attribute);
                    if ($request === null) {
                        $empty++;
                        $bar->advance();

                        continue;
                    }
                    $key = $model->getKey().':'.$attribute;
                    $pending[$key] = [$model, $attribute];

                    yield $key => $request;
                }
            }
        })();

        $client->storeMany($requests, $concurrency, function ($key, $result) use (&$pending, &$stored, &$failures, $bar) {
            [$model, $attribute] = $pending[$key];
            unset($pending[$key]);
            if ($result instanceof RenditionSet) {
                $model->keepRenditions($attribute, $result);
                $stored++;
            } else {
                /** @var ImgoptException $result */
                $model->recordRenditionError($attribute, $result->errorCode);
                $failures[$result->errorCode][] = $model->getKey();
            }
            $bar->advance();
        });
        $bar->finish();
        $this->newLine(2);

        $failed = array_sum(array_map('count', $failures));
        $this->info("Stored {$stored} sets; skipped {$skipped} complete and {$empty} without a source; {$failed} failed.");
        if ($failures !== []) {
            $this->table(['error code', 'count', 'keys'], array_map(
                fn ($code, $keys) => [$code, count($keys), implode(', ', array_slice($keys, 0, 10)).(count($keys) > 10 ? ', ...' : '')],
                array_keys($failures),
                $failures,
            ));

            return self::FAILURE;
        }

        return self::SUCCESS;
    }

    /** @return class-string<Model>|null */
    private function modelClass(string $name): ?string
    {
        $name = ltrim($name, '\\');
        foreach ([$name, "App\\Models\\{$name}", "App\\{$name}"] as $candidate) {
            if (class_exists($candidate) && is_subclass_of($candidate, Model::class) && method_exists($candidate, 'renditionAttributes')) {
                return $candidate;
            }
        }

        return null;
    }
}
