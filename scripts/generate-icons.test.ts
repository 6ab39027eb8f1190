import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TRAY_GLYPHS } from "../assets/icon-glyphs.js";
import { trayStateSchema } from "../src-contract/index.js";
import { renderIcons } from "./generate-icons.js";

const assets = path.resolve(import.meta.dirname, "..", "assets");

describe("the app's icons", () => {
  it("has a tray glyph for every tray state of the contract, and one for a node that is down", () => {
    expect(Object.keys(TRAY_GLYPHS).sort()).toEqual([...trayStateSchema.options, "error"].sort());
  });

  it("commits the PNGs the glyphs draw today, as valid PNGs of the right sizes", async () => {
    for (const [file, png] of renderIcons()) {
      const committed = await readFile(path.join(assets, file));
      expect(committed.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      const size = file === "icon.png" ? 512 : file.includes("@2x") ? 32 : 16;
      expect([committed.readUInt32BE(16), committed.readUInt32BE(20)]).toEqual([size, size]);
      expect(committed.equals(png), `${file} is stale: run npx tsx scripts/generate-icons.ts`).toBe(true);
    }
  });
});
