<?php
namespace App\Models;
use Illuminate\Database\Eloquent\Model;
use Imgopt\Laravel\Casts\AsRenditionSet;
use Imgopt\Laravel\Concerns\HasRenditions;
class Post extends Model
{
    use HasRenditions;
    protected $guarded = [];
    protected $casts = ['cover' => AsRenditionSet::class];
    public function imgoptRenditions(): array
    {
        return ['cover' => ['source' => 'cover_path', 'source_disk' => 'uploads', 'set' => 'default']];
    }
}
