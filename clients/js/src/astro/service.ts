/**
 * An Astro image service whose transform() is one imgopt `POST /convert`: an Astro site's own images
 * (`<Image>`, `<Picture>`, getImage()) are made by imgopt at build time and on the server, and sharp is not
 * needed. In astro.config.mjs:
 *
 *   image: { service: { entrypoint: "@imgopt/images/astro/service", config: { url: "http://imgopt:3000" } } }
 *
 * with IMGOPT_TOKEN in the environment (or `token` in config). URLs, srcset and attributes are Astro's own.
 */
import { baseService } from "astro/assets";

import { convert, type ImgoptConfig, type Transform } from "./convert.js";

interface ImageConfig {
  service: { entrypoint: string; config: ImgoptConfig };
}

const service = {
  ...baseService,
  async transform(inputBuffer: Uint8Array, transform: Transform & { src?: unknown }, imageConfig: ImageConfig) {
    if (transform.format === "svg") {
      return { data: inputBuffer, format: "svg" };
    }
    return convert(inputBuffer, transform, imageConfig.service.config ?? {});
  },
};

export default service;
