// astro is a peer dependency, present in the site that uses the service; this package builds without it.
declare module "astro/assets" {
  export const baseService: Record<string, unknown>;
}
