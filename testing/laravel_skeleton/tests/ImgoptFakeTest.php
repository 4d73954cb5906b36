<?php

use Illuminate\Foundation\Testing\TestCase;
use Illuminate\Support\Facades\Queue;
use Illuminate\Support\Facades\Storage;
use Imgopt\Laravel\Exceptions\ImgoptException;
use Imgopt\Laravel\Facades\Imgopt;
use Imgopt\Laravel\Jobs\GenerateRenditions;

class ImgoptFakeTest extends TestCase
{
    public function createApplication()
    {
        $app = require __DIR__.'/../bootstrap/app.php';
        $app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();
        config(['imgopt.url' => 'http://127.0.0.1:9']);   // nothing listens: only the fake can answer

        return $app;
    }

    public function test_saving_a_post_queues_its_renditions(): void
    {
        Queue::fake();
        $post = App\Models\Post::create(['title' => 'Fake', 'cover_path' => 'hero.jpg']);

        Queue::assertPushed(GenerateRenditions::class, fn ($job) => $job->model->is($post) && $job->attribute === 'cover');
        $post->delete();
    }

    public function test_the_fake_stores_a_set_with_the_sizes_the_service_would_make(): void
    {
        Storage::fake('public');
        $fake = Imgopt::fake();

        $set = Imgopt::store(storage_path('app/uploads/hero.jpg'), 'default', 'tests');

        $fake->assertSent('/variants');
        $this->assertSame(['avif-320', 'webp-320', 'avif-768', 'webp-768', 'avif-1200', 'webp-1200', 'avif-1920', 'webp-1920'], array_keys($set->renditions));
        $this->assertSame([1920, 1280], [$set->get('webp-1920')->width, $set->get('webp-1920')->height]);
        Storage::disk('public')->assertExists($set->paths());
    }

    public function test_the_fake_can_fail_like_the_service(): void
    {
        Imgopt::fake()->failWith('undecodable_image');

        try {
            Imgopt::info(storage_path('app/uploads/hero.jpg'));
            $this->fail('no exception');
        } catch (ImgoptException $error) {
            $this->assertSame(['undecodable_image', 422, false], [$error->errorCode, $error->status, $error->isRetryable()]);
        }
    }
}
