<?php

namespace Imgopt\Laravel\Results;

use Illuminate\Http\Client\Response;

/** An upload's facts and placeholder (/info), and the request id that produced them. */
class Info
{
    public function __construct(
        public Source $source,
        public Placeholder $placeholder,
        public ?string $requestId = null,
    ) {
    }

    public static function fromResponse(Response $response): self
    {
        return new self(
            Source::fromArray($response->json('source')),
            Placeholder::fromArray($response->json('placeholder')),
            $response->header('X-Request-Id') ?: null,
        );
    }
}
