<?php

namespace Imgopt\Laravel\Results;

use Illuminate\Http\Client\Response;

/** Every rendition of one upload (/variants), by name in request order, with its facts and placeholder. */
class Variants extends Info
{
    /** @param  array<string, Rendition>  $renditions */
    public function __construct(
        Source $source,
        Placeholder $placeholder,
        public array $renditions,
        ?string $requestId = null,
    ) {
        parent::__construct($source, $placeholder, $requestId);
    }

    public static function fromResponse(Response $response): self
    {
        $renditions = [];
        foreach ($response->json('variants') as $item) {
            $renditions[$item['name']] = Rendition::fromArray($item);
        }

        return new self(
            Source::fromArray($response->json('source')),
            Placeholder::fromArray($response->json('placeholder')),
            $renditions,
            $response->header('X-Request-Id') ?: null,
        );
    }
}
