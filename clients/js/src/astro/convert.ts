/**
 * What the Astro image service sends imgopt: one `POST /convert` for one of Astro's transforms (its width,
 * height, fit, position, format, quality and background), and the bytes imgopt answers. Apart from Astro so
 * that it is tested without it.
 */

export interface ImgoptConfig {
  /** Where imgopt answers, e.g. http://imgopt:3000 (default: the IMGOPT_URL environment variable). */
  url?: string;
  /** imgopt's API_TOKEN (default: IMGOPT_TOKEN). */
  token?: string;
  /** Milliseconds to wait for an answer (default 60000, imgopt's own TIMEOUT). */
  timeout?: number;
}

/** Astro's transform, as much of it as imgopt is asked about. */
export interface Transform {
  width?: number;
  height?: number;
  fit?: string;
  position?: string;
  format?: string;
  quality?: string | number;
  background?: string;
}

/** Astro's quality names, as its own sharp service reads them. */
const QUALITY_NAMES: Record<string, number> = { low: 25, mid: 50, high: 80, max: 100 };

/** Astro's fit values as imgopt's (Astro's "cover" crops, "contain" and "inside" fit inside, "fill" stretches). */
const FITS: Record<string, string> = {
  cover: "cover",
  contain: "inside",
  inside: "inside",
  "scale-down": "inside",
  fill: "fill",
  none: "inside",
  outside: "cover",
};

const FORMATS: Record<string, string> = { webp: "webp", avif: "avif", jpeg: "jpeg", jpg: "jpeg", png: "png" };

export class ImgoptError extends Error {
  constructor(
    message: string,
    public readonly code: string,
    public readonly status: number | null,
  ) {
    super(message);
    this.name = "ImgoptError";
  }
}

/** The multipart fields of a transform. */
export function convertFields(transform: Transform): Record<string, string> {
  const fields: Record<string, string> = { format: FORMATS[transform.format ?? "webp"] ?? "webp" };
  if (transform.width) fields.width = String(Math.round(transform.width));
  if (transform.height) fields.height = String(Math.round(transform.height));
  if (transform.width && transform.height) {
    fields.fit = FITS[transform.fit ?? "cover"] ?? "cover";
    if (fields.fit === "cover" && transform.position) fields.gravity = transform.position.replace(/\s+/g, "-");
  }
  const quality = transform.quality;
  if (typeof quality === "number" || (typeof quality === "string" && /^\d+$/.test(quality))) {
    fields.quality = String(Math.min(100, Math.max(1, Number(quality))));
  } else if (typeof quality === "string" && quality in QUALITY_NAMES) {
    fields.quality = String(QUALITY_NAMES[quality]);
  }
  if (transform.background) fields.background = transform.background;
  return fields;
}

/** One `POST /convert`: the image's bytes and its format, or an ImgoptError with imgopt's code. */
export async function convert(
  input: Uint8Array,
  transform: Transform,
  config: ImgoptConfig = {},
): Promise<{ data: Uint8Array; format: string }> {
  const url = (config.url ?? process.env.IMGOPT_URL ?? "").replace(/\/+$/, "");
  const token = config.token ?? process.env.IMGOPT_TOKEN ?? "";
  if (!url || !token) {
    throw new ImgoptError("imgopt needs a url and a token (image.service.config, or IMGOPT_URL and IMGOPT_TOKEN)", "not_configured", null);
  }
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(input)]), "upload");
  for (const [name, value] of Object.entries(convertFields(transform))) form.append(name, value);
  const response = await fetch(`${url}/convert`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, Accept: "image/*, application/json" },
    body: form,
    signal: AbortSignal.timeout(config.timeout ?? 60_000),
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ImgoptError(
      `imgopt answered ${response.status}: ${body?.error?.message ?? response.statusText}`,
      body?.error?.code ?? `http_${response.status}`,
      response.status,
    );
  }
  const type = response.headers.get("content-type") ?? "";
  return { data: new Uint8Array(await response.arrayBuffer()), format: type.replace(/^image\//, "").replace("jpeg", "jpg") };
}
