/**
 * <Picture image={contract} sizes="..." />: the image contract as a <picture>, with no client JavaScript (it
 * renders in a Next.js server component as well as anywhere React renders).
 */
import { createElement, type ReactElement } from "react";

import { pictureAttributes, type ImageContract, type PictureOptions } from "./contract.js";

export type { ImageContract, PictureOptions } from "./contract.js";

export interface PictureProps extends PictureOptions {
  image: ImageContract;
}

export function Picture({ image, ...options }: PictureProps): ReactElement {
  const { sources, img } = pictureAttributes(image, options);
  const { fetchPriority, ...rest } = img;
  // React 19 knows fetchPriority; React 18 wants the lowercase DOM attribute.
  const priority = fetchPriority ? { fetchPriority } : {};
  return createElement(
    "picture",
    null,
    ...sources.map((source) => createElement("source", { key: source.type, ...source })),
    createElement("img", { ...rest, ...priority }),
  );
}
