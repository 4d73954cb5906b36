<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ $post->title }}</title>
<style>body { margin: 0 } img { display: block; max-width: 100%; height: auto }</style>
</head>
<body>
<h1 style="margin: 0; font: 16px sans-serif">{{ $post->title }}</h1>
<x-imgopt-picture :set="$post->cover" sizes="100vw" alt="{{ $post->title }}" id="cover" />
<p>Below the image.</p>
</body>
</html>
