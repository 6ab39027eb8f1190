import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashModelFile } from "../model-hash.js";
import { ensureSyntheticModel } from "../synthetic/model-cache.js";
import { buildManifest, computeManifestRoot, hashPiece, manifestTotalBytes, parseManifest, pieceSpans, type ModelManifest } from "./model-manifest.js";
import { readFile } from "node:fs/promises";

const PIECE = 64 * 1024;

describe("model manifests", () => {
  let modelPath: string;
  let manifest: ModelManifest;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "manifest-"));
    modelPath = (await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32" })).path;
    manifest = await buildManifest([modelPath], { pieceSize: PIECE });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("cuts a GGUF into hashed pieces, keeps the whole-file sha256 and a metadata summary", async () => {
    const bytes = await readFile(modelPath);
    const part = manifest.parts[0]!;
    expect(part.size).toBe(bytes.byteLength);
    expect(part.sha256).toBe(await hashModelFile(modelPath));
    expect(part.pieces).toHaveLength(Math.ceil(bytes.byteLength / PIECE));
    const spans = pieceSpans(manifest);
    const last = spans.at(-1)!;
    expect(last.offset + last.length).toBe(bytes.byteLength);
    expect(hashPiece(bytes.subarray(last.offset, last.offset + last.length))).toBe(last.sha256);
    expect(manifest.metadata).toMatchObject({ architecture: "llama", mainTensorType: "F32" });
    expect(manifest.metadata.tensorCount).toBeGreaterThan(0);
    expect(manifest.metadata.parameterCount).toBeGreaterThan(100_000);
  });

  it("names the model by a root over pieces, sizes, names and part hashes, not the metadata", () => {
    expect(manifest.root).toBe(computeManifestRoot(manifest));
    expect(computeManifestRoot({ ...manifest, pieceSize: manifest.pieceSize })).toBe(manifest.root);
    const renamed = { ...manifest, parts: [{ ...manifest.parts[0]!, fileName: "other.gguf" }] };
    expect(computeManifestRoot(renamed)).not.toBe(manifest.root);
    expect(parseManifest({ ...manifest, metadata: { ...manifest.metadata, name: "relabelled" } }).root).toBe(manifest.root);
  });

  it("refuses a manifest whose pieces were altered, one for another root, and unsafe file names", () => {
    const pieces = [...manifest.parts[0]!.pieces];
    pieces[3] = "0".repeat(64);
    const altered = { ...manifest, parts: [{ ...manifest.parts[0]!, pieces }] };
    expect(() => parseManifest(altered)).toThrow(/altered/);
    expect(() => parseManifest(manifest, "f".repeat(64))).toThrow(/manifest of/);
    for (const fileName of ["../evil.gguf", ".hidden", "a/b.gguf", ""]) {
      const part = { ...manifest.parts[0]!, fileName };
      const body = { ...manifest, parts: [part] };
      expect(() => parseManifest({ ...body, root: computeManifestRoot(body) })).toThrow(/schema/);
    }
    const short = { ...manifest, parts: [{ ...manifest.parts[0]!, pieces: pieces.slice(1) }] };
    expect(() => parseManifest({ ...short, root: computeManifestRoot(short) })).toThrow(/pieces/);
  });

  it("treats the parts of a split model as one model with pieces cut per part", async () => {
    const second = (await ensureSyntheticModel({ preset: "tiny", seed: 2, quantization: "F32" })).path;
    const split = await buildManifest([modelPath, second], { pieceSize: PIECE });
    expect(split.parts.map((part) => part.fileName)).toEqual([path.basename(modelPath), path.basename(second)]);
    const spans = pieceSpans(split);
    expect(spans).toHaveLength(split.parts[0]!.pieces.length + split.parts[1]!.pieces.length);
    expect(spans.find((span) => span.part === 1)).toMatchObject({ offset: 0 });
    expect(manifestTotalBytes(split)).toBe(split.parts[0]!.size + split.parts[1]!.size);
    expect(split.metadata.tensorCount).toBe(2 * manifest.metadata.tensorCount);
  });

  it("refuses files that are not GGUF", async () => {
    const junk = path.join(dir, "junk.gguf");
    await writeFile(junk, Buffer.alloc(1000, 7));
    await expect(buildManifest([junk], { pieceSize: PIECE })).rejects.toMatchObject({ code: "MODEL_NOT_GGUF" });
  });
});
