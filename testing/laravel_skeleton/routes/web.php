<?php
use App\Models\Post;
use Illuminate\Support\Facades\Route;
Route::get('/posts/{post}', fn (Post $post) => view('post', ['post' => $post]));
Route::get('/api/posts/{post}', fn (Post $post) => response()->json($post->cover));
