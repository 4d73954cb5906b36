import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { convert, convertFields, ImgoptError } from "../dist/astro/convert.js";

test("Astro's transform as imgopt's fields", () => {
  assert.deepEqual(convertFields({ width: 800.4, format: "avif", quality: "high" }), { format: "avif", width: "800", quality: "80" });
  assert.deepEqual(convertFields({ width: 400, height: 300, fit: "cover", position: "top left", format: "jpg", quality: 70 }), {
    format: "jpeg",
    width: "400",
    height: "300",
    fit: "cover",
    gravity: "top-left",
    quality: "70",
  });
  assert.deepEqual(convertFields({ width: 400, height: 300, fit: "contain" }), { format: "webp", width: "400", height: "300", fit: "inside" });
  assert.deepEqual(convertFields({ height: 300, background: "#ffffff", quality: "150" }), { format: "webp", height: "300", quality: "100", background: "#ffffff" });
});

test("without a url and token it says what to set", async () => {
  await assert.rejects(convert(new Uint8Array([1]), {}, { url: "", token: "" }), (error) => error instanceof ImgoptError && error.code === "not_configured");
});

// With IMGOPT_URL, IMGOPT_TOKEN and IMGOPT_TEST_IMAGE (tests/test_js_package.py sets them, with a live imgopt).
const live = process.env.IMGOPT_URL && process.env.IMGOPT_TOKEN && process.env.IMGOPT_TEST_IMAGE;

test("one POST /convert makes the transform", { skip: live ? false : "IMGOPT_URL, IMGOPT_TOKEN and IMGOPT_TEST_IMAGE are not set" }, async () => {
  const input = new Uint8Array(readFileSync(process.env.IMGOPT_TEST_IMAGE));
  const { data, format } = await convert(input, { width: 320, format: "avif", quality: 60 });
  assert.equal(format, "avif");
  assert.equal(Buffer.from(data.subarray(4, 12)).toString("latin1"), "ftypavif");
});

test("imgopt's refusal comes back with its code", { skip: live ? false : "IMGOPT_URL, IMGOPT_TOKEN and IMGOPT_TEST_IMAGE are not set" }, async () => {
  await assert.rejects(
    convert(new TextEncoder().encode("not an image"), { width: 320 }),
    (error) => error instanceof ImgoptError && error.status === 415 && error.code === "unsupported_format",
  );
  await assert.rejects(
    convert(new Uint8Array(readFileSync(process.env.IMGOPT_TEST_IMAGE)), {}, { token: "wrong" }),
    (error) => error instanceof ImgoptError && error.status === 401,
  );
});
