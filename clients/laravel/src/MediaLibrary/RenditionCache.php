<?php

namespace Imgopt\Laravel\MediaLibrary;

use Imgopt\Laravel\Results\Info;

/**
 * Renditions made ahead of time, by source file and /convert fields: a media item's conversions, responsive
 * widths and placeholders come from one /variants request (FileManipulator, ResponsiveImageGenerator), and
 * medialibrary's own per-conversion steps then find them here instead of asking the service once each. Also
 * the facts /info gave about a source, and the widths widths=auto chose for a responsive base. Held in memory by one process, for one media item at a time.
 */
class RenditionCache
{
    /** @var array<string, string> */
    private array $renditions = [];

    /** @var array<string, Info> */
    private array $facts = [];

    /** @var array<string, list<int>> the widths widths=auto chose for a base file, by its hash */
    private array $widths = [];

    public function put(string $sourceHash, array $fields, string $contents): void
    {
        $this->renditions[self::key($sourceHash, $fields)] = $contents;
    }

    /** The rendition made ahead for these fields of this source, if any (it is handed out once). */
    public function take(string $sourceHash, array $fields): ?string
    {
        $key = self::key($sourceHash, $fields);
        $contents = $this->renditions[$key] ?? null;
        unset($this->renditions[$key]);

        return $contents;
    }

    /** The source's facts, asked of the service once per source. */
    public function facts(string $sourceHash, callable $ask): Info
    {
        return $this->facts[$sourceHash] ??= $ask();
    }

    /** @param  list<int>  $widths */
    public function rememberWidths(string $baseHash, array $widths): void
    {
        $this->widths[$baseHash] = $widths;
    }

    /** @return list<int>|null the widths chosen for this base file, if they were */
    public function widths(string $baseHash): ?array
    {
        return $this->widths[$baseHash] ?? null;
    }

    public function clear(): void
    {
        $this->renditions = [];
        $this->facts = [];
        $this->widths = [];
    }

    private static function key(string $sourceHash, array $fields): string
    {
        ksort($fields);

        return $sourceHash.'|'.json_encode($fields);
    }
}
