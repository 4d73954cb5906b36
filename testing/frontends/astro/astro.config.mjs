// The site's own images (astro:assets) are made by imgopt: IMGOPT_URL and IMGOPT_TOKEN from the environment.
import { defineConfig } from "astro/config";

export default defineConfig({
  // A build of its own each time (tests/test_frontends.py): no optimized image is taken from an earlier one.
  cacheDir: process.env.ASTRO_CACHE_DIR ?? "./node_modules/.astro",
  image: { service: { entrypoint: "@imgopt/images/astro/service", config: { url: process.env.IMGOPT_URL } } },
  vite: { server: { fs: { strict: false } } },
});
