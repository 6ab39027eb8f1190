/**
 * Draws the app icon and the tray icons (one per tray state, at 1x and @2x) as PNGs into assets/, with
 * node:zlib and nothing else: the glyphs (assets/icon-glyphs.ts) are tested per sub-pixel (4x4 samples) for
 * smooth edges. The PNGs are committed; run `npx tsx scripts/generate-icons.ts` after changing a glyph.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { appIconLayers, TRAY_GLYPHS, type Layer } from "../assets/icon-glyphs.js";

/** The topmost layer covering each sub-pixel wins; sub-pixels are averaged with premultiplied alpha. */
function rasterize(size: number, layers: readonly Layer[], samples = 4): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          for (let i = layers.length - 1; i >= 0; i--) {
            const layer = layers[i]!;
            if (!layer.shape(x, y)) continue;
            const alpha = layer.color[3] / 255;
            r += layer.color[0] * alpha;
            g += layer.color[1] * alpha;
            b += layer.color[2] * alpha;
            a += alpha;
            break;
          }
        }
      }
      const offset = (py * size + px) * 4;
      const count = samples * samples;
      pixels[offset] = a > 0 ? Math.round(r / a) : 0;
      pixels[offset + 1] = a > 0 ? Math.round(g / a) : 0;
      pixels[offset + 2] = a > 0 ? Math.round(b / a) : 0;
      pixels[offset + 3] = Math.round((a / count) * 255);
    }
  }
  return pixels;
}

/** An 8-bit RGBA PNG: signature, IHDR, one IDAT (each row prefixed with filter 0), IEND. */
export function encodePng(size: number, rgba: Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Every icon file, by its path under assets/. */
export function renderIcons(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const [name, layers] of Object.entries(TRAY_GLYPHS)) {
    files.set(`tray/tray-${name}.png`, encodePng(16, rasterize(16, layers)));
    files.set(`tray/tray-${name}@2x.png`, encodePng(32, rasterize(32, layers)));
  }
  files.set("icon.png", encodePng(512, rasterize(512, appIconLayers())));
  return files;
}

async function main() {
  const assets = path.resolve(import.meta.dirname, "..", "assets");
  await mkdir(path.join(assets, "tray"), { recursive: true });
  const files = renderIcons();
  for (const [file, png] of files) await writeFile(path.join(assets, file), png);
  console.log(`wrote ${[...files.keys()].join(", ")}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
