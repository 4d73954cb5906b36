<?php

namespace Imgopt\Laravel\Tests;

use Illuminate\Http\Client\Factory;
use Illuminate\Http\Client\Request;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\UnsupportedManipulation;
use Imgopt\Laravel\MediaLibrary\RecordedImage;
use Imgopt\Laravel\MediaLibrary\RenditionCache;
use Imgopt\Laravel\Testing\TinyImages;
use PHPUnit\Framework\TestCase;

/** medialibrary's image as imgopt makes it: recorded, then one /convert, or what was made ahead. */
class RecordedImageTest extends TestCase
{
    private Factory $http;

    private RenditionCache $cache;

    private string $directory;

    protected function setUp(): void
    {
        $this->http = new Factory();
        $this->cache = new RenditionCache();
        $this->directory = sys_get_temp_dir().'/imgopt-recorded-'.bin2hex(random_bytes(4));
        mkdir($this->directory);
    }

    protected function tearDown(): void
    {
        array_map('unlink', glob("{$this->directory}/*") ?: []);
        rmdir($this->directory);
    }

    public function test_a_save_is_one_convert_with_the_plans_fields(): void
    {
        $this->http->fake(['*/convert' => $this->http->response('RIFFwebp', 200, ['Content-Type' => 'image/webp'])]);
        $image = $this->loaded(TinyImages::of('png'), 'png');
        $image->record('width', 1, ['preserveAspectRatio']);
        $image->record('format', 'webp');

        $image->save("{$this->directory}/out.webp");

        $this->assertSame('RIFFwebp', file_get_contents("{$this->directory}/out.webp"));
        $this->http->assertSentCount(1);
        $this->http->assertSent(function (Request $request) {
            $parts = array_column($request->data(), 'contents', 'name');

            return str_ends_with($request->url(), '/convert') && $parts['format'] === 'webp' && $parts['animated'] === 'false';
        });
    }

    public function test_a_rendition_made_ahead_is_taken_without_a_request(): void
    {
        $this->http->fake();
        $image = $this->loaded(TinyImages::of('png'), 'png');
        $image->record('format', 'avif');
        $this->cache->put($image->hash(), $image->plan()->fields('out.avif'), 'made ahead');

        $image->save("{$this->directory}/out.avif");

        $this->assertSame('made ahead', file_get_contents("{$this->directory}/out.avif"));
        $this->http->assertNothingSent();
    }

    public function test_a_manipulation_imgopt_cannot_make_fails_naming_it_and_asks_for_nothing(): void
    {
        $this->http->fake();
        $image = $this->loaded(TinyImages::of('png'), 'png');
        $image->record('text', 'hello', 12);

        try {
            $image->save("{$this->directory}/out.jpg");
            $this->fail('no UnsupportedManipulation');
        } catch (UnsupportedManipulation $error) {
            $this->assertSame('unsupported_manipulation', $error->errorCode);
            $this->assertStringContainsString('imgopt cannot make text', $error->getMessage());
        }
        $this->http->assertNothingSent();
    }

    public function test_a_source_php_cannot_read_the_header_of_is_measured_by_the_service_once(): void
    {
        $this->http->fake(['*/info' => $this->http->response([
            'source' => ['format' => 'heif', 'width' => 3024, 'height' => 4032, 'frames' => 1, 'animated' => false, 'has_alpha' => false],
            'placeholder' => ['color' => '#000000', 'blurhash' => '', 'thumbhash' => '', 'data_uri' => ''],
        ])]);
        $image = $this->loaded('....ftypheic not a header PHP reads', 'heic');
        $image->record('width', 756, ['preserveAspectRatio']);
        $again = new RecordedImage($this->client(), $this->cache);
        $again->load("{$this->directory}/source.heic");

        $this->assertSame([756, 1008], [$image->width(), $image->height()]);
        $this->assertSame([3024, 4032], [$again->width(), $again->height()]);
        $this->http->assertSentCount(1);
    }

    public function test_a_png_that_carries_exif_is_measured_upright_by_the_service_one_without_is_not(): void
    {
        $this->http->fake(['*/info' => $this->http->response([
            'source' => ['format' => 'png', 'width' => 30, 'height' => 40, 'frames' => 1, 'animated' => false, 'has_alpha' => false],
            'placeholder' => ['color' => '#000000', 'blurhash' => '', 'thumbhash' => '', 'data_uri' => ''],
        ])]);

        $plain = $this->loaded(self::png(40, 30, []), 'png');
        $this->assertSame([40, 30], [$plain->width(), $plain->height()]);
        $this->http->assertSentCount(0);

        // EXIF orientation 6 in an eXIf chunk: the service turns it upright, so its size is the service's.
        $turned = $this->loaded(self::png(40, 30, ['eXIf' => "MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"]), 'png');
        $this->assertSame([30, 40], [$turned->width(), $turned->height()]);
        $this->http->assertSentCount(1);
    }

    /** A PNG's header and chunks, as much as a header reader needs (no pixels). */
    private static function png(int $width, int $height, array $chunks): string
    {
        $chunk = fn (string $type, string $data) => pack('N', strlen($data)).$type.$data.pack('N', crc32($type.$data));
        $png = "\x89PNG\r\n\x1a\n".$chunk('IHDR', pack('NNCCCCC', $width, $height, 8, 2, 0, 0, 0));
        foreach ($chunks as $type => $data) {
            $png .= $chunk($type, $data);
        }

        return $png.$chunk('IEND', '');
    }

    private function loaded(string $contents, string $extension): RecordedImage
    {
        file_put_contents("{$this->directory}/source.{$extension}", $contents);
        $image = new RecordedImage($this->client(), $this->cache);
        $image->load("{$this->directory}/source.{$extension}");

        return $image;
    }

    private function client(): Client
    {
        return new Client($this->http, new NoStorage(), ['url' => 'http://imgopt.test', 'token' => 't', 'retries' => 1]);
    }
}
