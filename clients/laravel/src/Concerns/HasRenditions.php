<?php

namespace Imgopt\Laravel\Concerns;

use Imgopt\Laravel\Client;
use Imgopt\Laravel\Jobs\GenerateRenditions;
use Imgopt\Laravel\Sets\RenditionAttribute;
use Imgopt\Laravel\Sets\RenditionSet;
use Imgopt\Laravel\Sets\StoreRequest;
use InvalidArgumentException;

/**
 * For an Eloquent model whose attributes keep RenditionSets. The model says which in imgoptRenditions():
 *
 *     public function imgoptRenditions(): array
 *     {
 *         return ['cover' => ['source' => 'cover_path', 'set' => 'default']];
 *     }
 *
 * When a source attribute changes, saving the model queues GenerateRenditions for it (after the
 * transaction commits); deleting the model deletes the files.
 */
trait HasRenditions
{
    /** @return array<string, array> attribute => ['source' => ..., 'set' => ..., 'source_disk' => ..., 'disk' => ..., 'error' => ...] */
    abstract public function imgoptRenditions(): array;

    public static function bootHasRenditions(): void
    {
        static::saved(function (self $model) {
            foreach ($model->renditionAttributes() as $definition) {
                if ($model->isDirty($definition->source)) {
                    GenerateRenditions::dispatch($model, $definition->attribute)->afterCommit();
                }
            }
        });

        static::deleted(function (self $model) {
            if (method_exists($model, 'isForceDeleting') && ! $model->isForceDeleting()) {
                return;
            }
            foreach ($model->renditionAttributes() as $definition) {
                $set = $model->getAttribute($definition->attribute);
                if ($set instanceof RenditionSet) {
                    $set->delete();
                }
            }
        });
    }

    /** @return array<string, RenditionAttribute> */
    public function renditionAttributes(): array
    {
        $attributes = [];
        foreach ($this->imgoptRenditions() as $attribute => $definition) {
            $attributes[$attribute] = RenditionAttribute::fromArray($attribute, (array) $definition);
        }

        return $attributes;
    }

    public function renditionAttribute(string $attribute): RenditionAttribute
    {
        $definition = $this->renditionAttributes()[$attribute] ?? null;
        if ($definition === null) {
            throw new InvalidArgumentException(static::class." keeps no renditions in '{$attribute}' (see imgoptRenditions())");
        }

        return $definition;
    }

    /** What to send for $attribute, or null when its source attribute is empty. */
    public function renditionRequest(string $attribute, ?string $set = null): ?StoreRequest
    {
        $definition = $this->renditionAttribute($attribute);
        $source = $this->getAttribute($definition->source);
        if ($source === null || $source === '') {
            return null;
        }

        return new StoreRequest(
            $source,
            $set ?? $definition->set,
            $this->getTable().'/'.$this->getKey().'/'.$attribute,
            $definition->disk,
            $definition->sourceDisk,
        );
    }

    /** Whether $attribute holds every rendition of its set, with every file on its disk. */
    public function hasCompleteRenditions(string $attribute, Client $client, ?string $set = null): bool
    {
        $definition = $this->renditionAttribute($attribute);
        $current = $this->getAttribute($attribute);

        return $current instanceof RenditionSet
            && $current->isComplete($client->set($set ?? $definition->set))
            && $current->filesExist(app('filesystem'));
    }

    /**
     * Make and store $attribute's set now (what the job does), and keep its manifest.
     *
     * @throws \Imgopt\Laravel\Exceptions\ImgoptException
     */
    public function generateRenditions(string $attribute, Client $client, ?string $set = null, ?string $requestId = null): ?RenditionSet
    {
        $request = $this->renditionRequest($attribute, $set);
        if ($request === null) {
            $this->keepRenditions($attribute, null);

            return null;
        }
        $manifest = $client->storeRequest($request, $requestId);
        $this->keepRenditions($attribute, $manifest);

        return $manifest;
    }

    /**
     * Save $manifest in $attribute without firing model events, clear the recorded error, and delete the
     * files of the set it replaces that it does not reuse.
     */
    public function keepRenditions(string $attribute, ?RenditionSet $manifest): void
    {
        $definition = $this->renditionAttribute($attribute);
        $previous = $this->getAttribute($attribute);
        $values = [$attribute => $manifest];
        if ($definition->errorAttribute !== null) {
            $values[$definition->errorAttribute] = null;
        }
        $this->forceFill($values)->saveQuietly();

        if ($previous instanceof RenditionSet) {
            $previous->delete(null, $manifest ? $manifest->paths() : []);
        }
    }

    /** Record why $attribute's set could not be made: the service's error code. */
    public function recordRenditionError(string $attribute, string $code): void
    {
        $definition = $this->renditionAttribute($attribute);
        if ($definition->errorAttribute !== null) {
            $this->forceFill([$definition->errorAttribute => $code])->saveQuietly();
        }
    }
}
