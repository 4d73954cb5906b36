import assert from "node:assert/strict";
import { test } from "node:test";

import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";

import { Picture } from "../dist/react.js";
import { contract } from "./fixture.js";

test("<Picture> renders the contract as <picture> with no script", () => {
  const html = renderToStaticMarkup(createElement(Picture, { image: contract }));
  assert.match(html, /^<picture><source type="image\/avif" srcSet="\/a-320\.avif 320w, \/a-768\.avif 768w" sizes="\(min-width: 1024px\) 50vw, 100vw"\/><source type="image\/webp"/);
  assert.match(html, /<img src="\/storage\/photo\/webp-1200\.webp" width="4032" height="3024" alt="The harbour at dusk" sizes="[^"]+" loading="lazy" decoding="async" style="max-width:100%;height:auto;background-color:#7a8b99;background-image:url\(&quot;data:image\/webp;base64,UklGRg==&quot;\);background-size:cover;background-repeat:no-repeat"\/><\/picture>$/);
  assert.doesNotMatch(html, /<script/);
});

test("a hero: eager, with fetchpriority", () => {
  const html = renderToStaticMarkup(createElement(Picture, { image: contract, loading: "eager", fetchPriority: "high" }));
  assert.match(html, /loading="eager"/);
  assert.match(html, /fetchPriority="high"/);
});
