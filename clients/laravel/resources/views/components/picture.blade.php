<picture>
@foreach ($sources() as $source)
    <source type="{{ $source['type'] }}" srcset="{{ $source['srcset'] }}" sizes="{{ $sizes }}">
@endforeach
    <img {{ $attributes->except('style')->merge($imageAttributes((string) $attributes->get('style', ''))) }}>
</picture>
