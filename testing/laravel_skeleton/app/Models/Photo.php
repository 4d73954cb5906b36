<?php
namespace App\Models;
class Photo extends Post
{
    protected $table = 'photos';
}
