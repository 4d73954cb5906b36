// The CMS's answer, as a headless front end fetches it: read at request time from the file CONTRACTS names
// (tests/test_frontends.py writes it from what the Laravel package emitted).
import { readFileSync } from "node:fs";

export function photos() {
  return JSON.parse(readFileSync(process.env.CONTRACTS, "utf8"));
}

export const grid = { display: "grid", gap: "16px", padding: "16px", gridTemplateColumns: "repeat(auto-fill, minmax(min(100%, 420px), 1fr))" };
export const sizes = "(min-width: 920px) 420px, calc(100vw - 32px)";
