<?php

namespace Imgopt\Laravel\Tests;

use GuzzleHttp\Exception\ConnectException;
use Illuminate\Http\Client\Factory;
use Illuminate\Http\Client\Request;
use Imgopt\Laravel\Client;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Http\Upload;
use PHPUnit\Framework\Attributes\DataProvider;
use PHPUnit\Framework\TestCase;

/** The client's retries and error mapping, with Laravel's Http::fake standing in for the service. */
class ClientTest extends TestCase
{
    private const URL = 'http://imgopt.test:3000';

    private Factory $http;

    protected function setUp(): void
    {
        $this->http = new Factory();
    }

    public function test_every_default_is_the_config_files_at_every_level_and_a_list_is_the_apps_whole(): void
    {
        $config = Client::withDefaults([
            'queue' => ['tries' => 5],
            'backoff' => [100],
            'media_library' => ['widths' => ['min_width' => 200]],
        ]);

        $this->assertSame(5, $config['queue']['tries']);
        $this->assertSame(Client::defaults()['queue']['backoff'], $config['queue']['backoff']);
        $this->assertSame(Client::defaults()['queue']['timeout'], $config['queue']['timeout']);
        $this->assertSame([100], $config['backoff']);
        $this->assertSame(['max_images' => 6, 'min_width' => 200], $config['media_library']['widths']);
    }

    public function test_every_request_says_who_sends_it_and_how_long_it_waits(): void
    {
        $this->http->fake([self::URL.'/convert' => $this->http->response('RIFFxxxxWEBP', 200, $this->imageHeaders())]);

        $this->client(['timeout' => 45])->convert(Upload::fromContents('jpeg bytes'), ['width' => 320]);

        $this->http->assertSent(fn (Request $request) => str_starts_with($request->header('User-Agent')[0] ?? '', 'imgopt-laravel/')
            && $request->header('Prefer') === ['wait=45']);
    }

    public function test_a_503_is_sent_again_and_the_second_answer_is_used(): void
    {
        $this->http->fake([self::URL.'/convert' => $this->http->sequence()
            ->push($this->error('overloaded', 503), 503, ['Retry-After' => '0'])
            ->push('RIFFxxxxWEBP', 200, $this->imageHeaders()),
        ]);

        $image = $this->client()->convert(Upload::fromContents('jpeg bytes'), ['width' => 320]);

        $this->assertSame(320, $image->width);
        $this->assertSame('webp', $image->format());
        $this->http->assertSentCount(2);
    }

    public function test_a_408_is_sent_again(): void
    {
        $this->http->fake([self::URL.'/convert' => $this->http->sequence()
            ->push($this->error('request_timeout', 408), 408)
            ->push('RIFFxxxxWEBP', 200, $this->imageHeaders()),
        ]);

        $this->assertSame(240, $this->client()->convert(Upload::fromContents('jpeg'))->height);
        $this->http->assertSentCount(2);
    }

    public function test_a_refused_connection_is_tried_again_with_the_same_request_id(): void
    {
        $attempts = 0;
        $this->http->fake(function (Request $request) use (&$attempts) {
            if (++$attempts === 1) {
                throw new ConnectException('cURL error 7: Connection refused', $request->toPsrRequest());
            }

            return $this->http->response('RIFFxxxxWEBP', 200, $this->imageHeaders());
        });

        $this->client()->convert(Upload::fromContents('jpeg'), [], 'editor-upload-7');

        $this->assertSame(2, $attempts);
        $ids = array_map(fn ($pair) => $pair[0]->header('X-Request-Id')[0], $this->http->recorded()->all());
        $this->assertSame(['editor-upload-7'], array_values(array_unique($ids)));
    }

    public function test_after_the_last_attempt_the_error_says_a_retry_may_help(): void
    {
        $this->http->fake([self::URL.'/variants' => $this->http->response($this->error('overloaded', 503), 503, ['Retry-After' => '0'])]);

        $error = $this->catch(fn () => $this->client(['retries' => 3])->variants(Upload::fromContents('jpeg'), ['w' => ['width' => 10]]));

        $this->assertSame('overloaded', $error->errorCode);
        $this->assertSame(503, $error->status);
        $this->assertTrue($error->isRetryable());
        $this->http->assertSentCount(3);
    }

    /** @dataProvider finalErrors (PHPUnit 9 reads the annotation, 10 and later the attribute) */
    #[DataProvider('finalErrors')]
    public function test_an_error_no_retry_can_fix_is_thrown_at_once_with_its_code_and_request_id(string $code, int $status): void
    {
        $this->http->fake([self::URL.'/convert' => $this->http->response($this->error($code, $status), $status, ['X-Request-Id' => 'r-42'])]);

        $error = $this->catch(fn () => $this->client()->convert(Upload::fromContents('not an image')));

        $this->assertSame([$code, $status, 'r-42', false], [$error->errorCode, $error->status, $error->requestId, $error->isRetryable()]);
        $this->assertSame("message for {$code}", $error->getMessage());
        $this->http->assertSentCount(1);
    }

    public static function finalErrors(): array
    {
        return [
            'unsupported format' => ['unsupported_format', 415],
            'corrupt file' => ['undecodable_image', 422],
            'wrong token' => ['unauthorized', 401],
            'bad field' => ['invalid_width', 400],
            'upload too large' => ['payload_too_large', 413],
            'service bug' => ['internal_error', 500],
        ];
    }

    public function test_an_error_without_a_json_body_is_named_by_its_status(): void
    {
        $this->http->fake([self::URL.'/info' => $this->http->response('<html>Bad Gateway</html>', 502)]);

        $error = $this->catch(fn () => $this->client()->info(Upload::fromContents('jpeg')));

        $this->assertSame(['http_502', 502], [$error->errorCode, $error->status]);
    }

    public function test_our_own_timeout_is_not_retried(): void
    {
        $attempts = 0;
        $this->http->fake(function (Request $request) use (&$attempts) {
            $attempts++;

            throw new ConnectException('cURL error 28: Operation timed out after 60000 milliseconds', $request->toPsrRequest());
        });

        $error = $this->catch(fn () => $this->client()->convert(Upload::fromContents('jpeg')));

        $this->assertSame(['timed_out', null, true], [$error->errorCode, $error->status, $error->isRetryable()]);
        $this->assertSame(1, $attempts);
    }

    public function test_the_retry_waits_for_the_services_retry_after(): void
    {
        $this->http->fake([self::URL.'/convert' => $this->http->sequence()
            ->push($this->error('overloaded', 503), 503, ['Retry-After' => '1'])
            ->push('RIFFxxxxWEBP', 200, $this->imageHeaders()),
        ]);

        $started = microtime(true);
        $this->client(['backoff' => [0]])->convert(Upload::fromContents('jpeg'));

        $this->assertGreaterThanOrEqual(1.0, microtime(true) - $started);
    }

    public function test_the_request_carries_the_token_the_file_and_the_fields_as_imgopt_reads_them(): void
    {
        $this->http->fake([self::URL.'/convert' => $this->http->response('RIFFxxxxWEBP', 200, $this->imageHeaders())]);

        $this->client()->convert(Upload::fromContents('jpeg bytes'), [
            'format' => 'avif', 'width' => 320, 'enlarge' => false, 'crop' => [10, 20, 300, 200], 'height' => null,
        ]);

        $this->http->assertSent(function (Request $request) {
            $parts = array_column($request->data(), 'contents', 'name');

            // == on arrays: the same fields whatever their order
            return $request->hasHeader('Authorization', 'Bearer secret-token')
                && $request->isMultipart()
                && $parts == ['file' => 'jpeg bytes', 'format' => 'avif', 'width' => '320', 'enlarge' => 'false', 'crop' => '10,20,300,200'];
        });
    }

    public function test_a_named_set_becomes_one_variants_request_and_typed_renditions(): void
    {
        $this->http->fake([self::URL.'/variants' => $this->http->response([
            'source' => ['format' => 'jpeg', 'width' => 4032, 'height' => 3024, 'frames' => 1, 'animated' => false, 'has_alpha' => false],
            'placeholder' => ['color' => '#7f8a90', 'blurhash' => 'LEHV6nWB2yk8', 'thumbhash' => '1QcSHQRn', 'data_uri' => 'data:image/webp;base64,UklG'],
            'variants' => [
                ['name' => 'avif-320', 'format' => 'avif', 'media_type' => 'image/avif', 'width' => 320, 'height' => 240, 'frames' => 1, 'bytes' => 3, 'quality' => 80, 'score' => null, 'region' => null, 'data' => base64_encode('abc')],
                ['name' => 'webp-320', 'format' => 'webp', 'media_type' => 'image/webp', 'width' => 320, 'height' => 240, 'frames' => 1, 'bytes' => 3, 'quality' => 80, 'score' => null, 'region' => null, 'data' => base64_encode('def')],
            ],
        ], 200, ['X-Request-Id' => 'set-1'])]);

        $variants = $this->client()->variants(Upload::fromContents('jpeg'), 'default');

        $this->assertSame([4032, 3024, '#7f8a90', 'data:image/webp;base64,UklG'], [
            $variants->source->width, $variants->source->height, $variants->placeholder->color, $variants->placeholder->dataUri,
        ]);
        $this->assertSame(['avif-320', 'webp-320'], array_keys($variants->renditions));
        $this->assertSame('def', $variants->renditions['webp-320']->contents);
        $this->http->assertSent(function (Request $request) {
            $parts = array_column($request->data(), 'contents', 'name');

            return $parts['quality'] === '80' && json_decode($parts['variants'], true) === [
                ['name' => 'avif-320', 'format' => 'avif', 'width' => 320],
                ['name' => 'webp-320', 'format' => 'webp', 'width' => 320],
            ];
        });
    }

    public function test_an_unknown_set_is_a_configuration_error(): void
    {
        $this->expectExceptionMessage("imgopt has no set named 'hero'");

        $this->client()->variants(Upload::fromContents('jpeg'), 'hero');
    }

    private function client(array $config = []): Client
    {
        return new Client($this->http, new NoStorage(), $config + [
            'url' => self::URL,
            'token' => 'secret-token',
            'retries' => 3,
            'backoff' => [0, 0, 0],
            'sets' => ['default' => ['widths' => [320], 'formats' => ['avif', 'webp'], 'defaults' => ['quality' => 80]]],
        ]);
    }

    private function catch(callable $call): ImgoptException
    {
        try {
            $call();
        } catch (ImgoptException $error) {
            return $error;
        }
        $this->fail('no ImgoptException was thrown');
    }

    private function error(string $code, int $status): array
    {
        return ['error' => ['code' => $code, 'message' => "message for {$code}", 'status' => $status]];
    }

    private function imageHeaders(): array
    {
        return ['Content-Type' => 'image/webp', 'X-Image-Width' => '320', 'X-Image-Height' => '240', 'X-Request-Id' => 'ok-1'];
    }
}
