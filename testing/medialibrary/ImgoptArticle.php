<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;
use Imgopt\Laravel\MediaLibrary\ImgoptWidthCalculator;
use Spatie\Image\Enums\CropPosition;
use Spatie\Image\Enums\Fit;
use Spatie\MediaLibrary\HasMedia;
use Spatie\MediaLibrary\InteractsWithMedia;
use Spatie\MediaLibrary\MediaCollections\Models\Media;

/**
 * A CMS article's media, as medialibrary users write them: the conversions tests/test_medialibrary.py and
 * bench/medialibrary.py make, with GD or Imagick or through imgopt, changing nothing here.
 */
class ImgoptArticle extends Model implements HasMedia
{
    use InteractsWithMedia;

    protected $guarded = [];

    public function registerMediaCollections(): void
    {
        // An editor's photos, each with its own srcset (medialibrary's responsive images of the original).
        $this->addMediaCollection('photos')->withResponsiveImages();
    }

    public function registerMediaConversions(?Media $media = null): void
    {
        // A card thumbnail, made as the upload is added.
        $this->addMediaConversion('thumb')->fit(Fit::Crop, 368, 232)->nonQueued();
        // The article's hero, with responsive images and their placeholder.
        $this->addMediaConversion('preview')->width(1200)->format('webp')->withResponsiveImages();
        // A square that keeps the editor's focal point, in AVIF.
        $this->addMediaConversion('square')->focalCropAndResize(400, 400, 50, 40)->format('avif')->quality(60);
        // A letterbox banner: a centre band of the photo, then resized.
        $this->addMediaConversion('banner')->crop(3000, 1000, CropPosition::Center)->width(1500)->format('webp');
        // A gallery's large view, its srcset widths chosen by the service from their bytes.
        $this->addMediaConversion('large')->width(1600)->format('webp')->withResponsiveImages()
            ->withWidthCalculator(app(ImgoptWidthCalculator::class))->performOnCollections('gallery');
    }
}
