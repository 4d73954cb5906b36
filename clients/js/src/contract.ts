/**
 * The image contract: one JSON shape for one image, as the imgopt Laravel package emits it (from a stored
 * rendition set or a media library item) and as the components here render it. docs/image-contract.md in
 * the imgopt repository describes it, and docs/image-contract.schema.json is its JSON Schema.
 */

/** One `<source>`: a MIME type and a srcset of width descriptors ("url 320w, url 640w"). */
export interface ImageSource {
  type: string;
  srcset: string;
}

/** What a page paints while the image loads. Every field is optional; `data_uri` is what the components paint. */
export interface ImagePlaceholder {
  color?: string | null;
  data_uri?: string | null;
  blurhash?: string | null;
  thumbhash?: string | null;
}

export interface ImageContract {
  /** The fallback URL, for browsers that take no `<source>`. */
  src: string;
  /** The intrinsic width and height (upright): the browser reserves the box before a byte arrives. */
  width: number;
  height: number;
  alt: string;
  /** Best first: image/avif, then image/webp. */
  sources: ImageSource[];
  /** The `sizes` attribute, when the producer knows the layout. */
  sizes?: string | null;
  placeholder?: ImagePlaceholder | null;
}

export interface PictureOptions {
  /** Overrides the contract's `sizes`. Without either, "100vw". */
  sizes?: string;
  /** "lazy" by default; a hero above the fold wants "eager" with fetchPriority "high". */
  loading?: "lazy" | "eager";
  fetchPriority?: "high" | "low" | "auto";
  /** The placeholder is painted unless this is false. */
  placeholder?: boolean;
  className?: string;
  /** Overrides the contract's alt text. */
  alt?: string;
}

/** The `<source>` and `<img>` attributes of a contract, as plain values: what both components render. */
export interface PictureAttributes {
  sources: { type: string; srcSet: string; sizes: string }[];
  img: {
    src: string;
    width: number;
    height: number;
    alt: string;
    sizes: string;
    loading: "lazy" | "eager";
    decoding: "async";
    fetchPriority?: "high" | "low" | "auto";
    className?: string;
    style: Record<string, string>;
  };
}

/**
 * The attributes of a `<picture>` for a contract. The `<img>` keeps its intrinsic size (`width` and
 * `height`, and CSS `height: auto` so that a max-width scales it), so the box is reserved and nothing
 * shifts; the placeholder is its background, which the loaded image covers.
 */
export function pictureAttributes(image: ImageContract, options: PictureOptions = {}): PictureAttributes {
  check(image);
  const sizes = options.sizes ?? image.sizes ?? "100vw";
  const style: Record<string, string> = { maxWidth: "100%", height: "auto" };
  const placeholder = options.placeholder === false ? null : image.placeholder;
  if (placeholder?.color) {
    style.backgroundColor = placeholder.color;
  }
  if (placeholder?.data_uri) {
    style.backgroundImage = `url("${placeholder.data_uri}")`;
    style.backgroundSize = "cover";
    style.backgroundRepeat = "no-repeat";
  }
  const img: PictureAttributes["img"] = {
    src: image.src,
    width: image.width,
    height: image.height,
    alt: options.alt ?? image.alt,
    sizes,
    loading: options.loading ?? "lazy",
    decoding: "async",
    style,
  };
  if (options.fetchPriority) {
    img.fetchPriority = options.fetchPriority;
  }
  if (options.className) {
    img.className = options.className;
  }
  return {
    sources: image.sources.filter((source) => source.srcset).map((source) => ({ type: source.type, srcSet: source.srcset, sizes })),
    img,
  };
}

/** CSS text of a style object, for renderers that write attributes as strings (Astro). */
export function styleText(style: Record<string, string>): string {
  return Object.entries(style)
    .map(([key, value]) => `${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}:${value}`)
    .join(";");
}

/** A contract that cannot render is the producer's bug: say which field, rather than render a broken image. */
function check(image: ImageContract): void {
  if (!image || typeof image.src !== "string" || image.src === "") {
    throw new TypeError("image contract: `src` must be a non-empty URL");
  }
  for (const side of ["width", "height"] as const) {
    if (!Number.isInteger(image[side]) || image[side] <= 0) {
      throw new TypeError(`image contract: \`${side}\` must be a positive integer (it reserves the layout box)`);
    }
  }
  if (!Array.isArray(image.sources)) {
    throw new TypeError("image contract: `sources` must be a list of {type, srcset}");
  }
}
