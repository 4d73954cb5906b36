// The WebP set (320/768/1200/1920 px, q80) of each photo with sharp, the way a Node service would make it:
// every rendition at once with Promise.all. Prints {photo name: median ms} as JSON.
//
//   node bench/sharp/webp_set.mjs REPS PHOTO...
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import sharp from 'sharp';

const [reps, ...paths] = process.argv.slice(2);
const widths = [320, 768, 1200, 1920];
const result = {};
for (const path of paths) {
  const input = readFileSync(path);
  const once = () => Promise.all(widths.map((width) =>
    sharp(input).rotate().resize({ width, withoutEnlargement: true }).webp({ quality: 80 }).toBuffer()));
  await once();
  const times = [];
  for (let i = 0; i < Number(reps); i++) {
    const started = performance.now();
    await once();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  result[basename(path)] = times[Math.floor(times.length / 2)];
}
console.log(JSON.stringify(result));
