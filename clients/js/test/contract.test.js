import assert from "node:assert/strict";
import { test } from "node:test";

import { pictureAttributes, styleText } from "../dist/contract.js";
import { contract } from "./fixture.js";


test("sources keep their order and carry the sizes; the img keeps its intrinsic box", () => {
  const { sources, img } = pictureAttributes(contract);
  assert.deepEqual(
    sources.map((source) => [source.type, source.srcSet, source.sizes]),
    [
      ["image/avif", contract.sources[0].srcset, contract.sizes],
      ["image/webp", contract.sources[1].srcset, contract.sizes],
    ],
  );
  assert.equal(img.src, contract.src);
  assert.equal(img.width, 4032);
  assert.equal(img.height, 3024);
  assert.equal(img.alt, "The harbour at dusk");
  assert.equal(img.loading, "lazy");
  assert.equal(img.decoding, "async");
  assert.equal(img.style.height, "auto");
});

test("the placeholder is the img's background, colour under the tiny image", () => {
  const { img } = pictureAttributes(contract);
  assert.equal(img.style.backgroundColor, "#7a8b99");
  assert.equal(img.style.backgroundImage, 'url("data:image/webp;base64,UklGRg==")');
  assert.equal(img.style.backgroundSize, "cover");
  assert.match(styleText(img.style), /^max-width:100%;height:auto;background-color:#7a8b99;background-image:url/);
  const { img: plain } = pictureAttributes(contract, { placeholder: false });
  assert.equal(plain.style.backgroundImage, undefined);
});

test("options override the contract: sizes, eager loading with a priority, alt", () => {
  const { sources, img } = pictureAttributes(contract, { sizes: "100vw", loading: "eager", fetchPriority: "high", alt: "" });
  assert.ok(sources.every((source) => source.sizes === "100vw"));
  assert.equal(img.sizes, "100vw");
  assert.equal(img.loading, "eager");
  assert.equal(img.fetchPriority, "high");
  assert.equal(img.alt, "");
});

test("without sizes in the contract or the options, 100vw; a source without a srcset is left out", () => {
  const { sources, img } = pictureAttributes({ ...contract, sizes: null, sources: [{ type: "image/avif", srcset: "" }, contract.sources[1]] });
  assert.equal(img.sizes, "100vw");
  assert.deepEqual(sources.map((source) => source.type), ["image/webp"]);
});

test("a contract that cannot reserve its box is refused, naming the field", () => {
  assert.throws(() => pictureAttributes({ ...contract, width: 0 }), /`width` must be a positive integer/);
  assert.throws(() => pictureAttributes({ ...contract, src: "" }), /`src` must be a non-empty URL/);
  assert.throws(() => pictureAttributes({ ...contract, sources: undefined }), /`sources` must be a list/);
});
