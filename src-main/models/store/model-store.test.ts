import { mkdir, mkdtemp, open, readFile, rm, utimes, writeFile, copyFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureSyntheticModel } from "../synthetic/model-cache.js";
import { createModelCatalog } from "./model-catalog.js";
import { buildManifest, type ModelManifest } from "./model-manifest.js";
import { createModelStore, type ModelStore } from "./model-store.js";
import { storeIoError } from "./store-files.js";

const PIECE = 64 * 1024;

describe("the model store and resumable downloads", () => {
  let modelPath: string;
  let original: Buffer;
  let manifest: ModelManifest;
  let dir: string;
  let store: ModelStore;

  beforeAll(async () => {
    modelPath = (await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32" })).path;
    original = await readFile(modelPath);
    manifest = await buildManifest([modelPath], { pieceSize: PIECE });
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "store-"));
    store = createModelStore({ dir });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pieceOf = (index: number) => {
    const offset = index * PIECE;
    return original.subarray(offset, Math.min(original.byteLength, offset + PIECE));
  };

  it("holds files in place, reads their pieces, and forgets them when they change on disk", async () => {
    // Same base name: the file name is part of the root.
    await mkdir(path.join(dir, "owner"));
    const copy = path.join(dir, "owner", path.basename(modelPath));
    await copyFile(modelPath, copy);
    const held = await store.addFiles([copy], { pieceSize: PIECE });
    expect(held.manifest.root).toBe(manifest.root);
    expect(await store.get(manifest.root)).toMatchObject({ paths: [copy] });
    expect(await store.findBySha256(manifest.parts[0]!.sha256)).toBeDefined();
    const reader = await store.openPieceReader(held);
    expect(Buffer.from(await reader.read(2))).toEqual(pieceOf(2));
    await reader.close();
    await utimes(copy, new Date(), new Date(Date.now() + 10_000));
    expect(await store.get(manifest.root)).toBeUndefined();
    expect(await store.list()).toEqual([]);
  });

  it("keeps verified pieces across a restart and fetches only the others", async () => {
    const first = await store.beginDownload(manifest, { stateFlushIntervalMs: 0 });
    const count = first.spans.length;
    for (const index of [0, 1, 5, count - 1]) await first.writePiece(index, pieceOf(index));
    await first.close();

    const again = await createModelStore({ dir }).beginDownload(manifest);
    expect(again.missingPieces()).toHaveLength(count - 4);
    expect(again.isVerified(5)).toBe(true);
    expect(again.verifiedBytes()).toBe(3 * PIECE + again.spans[count - 1]!.length);
    expect(await store.partialManifest(manifest.root)).toMatchObject({ root: manifest.root });
    for (const index of again.missingPieces()) await again.writePiece(index, pieceOf(index));
    const held = await again.finish();
    expect(held.paths[0]).toBe(path.join(dir, "models", manifest.root, manifest.parts[0]!.fileName));
    expect(await readFile(held.paths[0]!)).toEqual(original);
    expect(await store.get(manifest.root)).toBeDefined();
    expect(await store.partialManifest(manifest.root)).toBeUndefined();
  });

  it("hashes the whole file in the background as pieces arrive in any order", async () => {
    const download = await store.beginDownload(manifest);
    const order = download.missingPieces().reverse();
    for (const index of order) await download.writePiece(index, pieceOf(index));
    expect(await readFile((await download.finish()).paths[0]!)).toEqual(original);
  });

  it("refuses a piece of the wrong length", async () => {
    const download = await store.beginDownload(manifest);
    await expect(download.writePiece(0, pieceOf(0).subarray(1))).rejects.toMatchObject({ code: "MODEL_STORE_MANIFEST_MISMATCH" });
    await expect(download.finish()).rejects.toThrow(/not complete/);
    await download.close();
  });

  it("refuses to start when the disk cannot hold what is missing", async () => {
    await expect(store.beginDownload(manifest, { freeBytes: async () => 1024 })).rejects.toMatchObject({ code: "MODEL_STORE_DISK_FULL" });
  });

  it("never moves a file that does not match into the store: corrupt pieces are refetched", async () => {
    // Without background hashing, so the change below lands before the whole file is read back.
    const download = await store.beginDownload(manifest, { stateFlushIntervalMs: 0, hashWhileFetching: false });
    for (const index of download.missingPieces()) await download.writePiece(index, pieceOf(index));
    // The disk changes a byte of piece 3 behind our back.
    const handle = await open(path.join(dir, "partial", manifest.root, "files", manifest.parts[0]!.fileName), "r+");
    await handle.write(Buffer.from([0xaa ^ original[3 * PIECE + 10]!]), 0, 1, 3 * PIECE + 10);
    await handle.close();
    await expect(download.finish()).rejects.toMatchObject({ code: "MODEL_STORE_MANIFEST_MISMATCH" });
    expect(await store.get(manifest.root)).toBeUndefined();

    const resumed = await store.beginDownload(manifest);
    expect(resumed.missingPieces()).toEqual([3]);
    await resumed.writePiece(3, pieceOf(3));
    expect(await readFile((await resumed.finish()).paths[0]!)).toEqual(original);
  });

  it("turns ENOSPC while writing into a clear disk-full error", () => {
    const error = storeIoError(Object.assign(new Error("no space left on device"), { code: "ENOSPC" }), "writing piece 3");
    expect(error).toMatchObject({ code: "MODEL_STORE_DISK_FULL" });
    expect(error.message).toMatch(/free some space and fetch again/);
    expect(storeIoError(new Error("EIO"), "reading")).toMatchObject({ code: "MODEL_STORE_IO" });
  });

  it("lets one live process at a time fetch a model, and takes over a crashed one's lock", async () => {
    const lock = path.join(dir, "partial", manifest.root, "lock");
    await mkdir(path.dirname(lock), { recursive: true });
    // The parent process (the test runner) is alive and is not us.
    await writeFile(lock, String(process.ppid));
    await expect(store.beginDownload(manifest)).rejects.toMatchObject({ code: "MODEL_STORE_LOCKED" });
    await writeFile(lock, "4194303");
    const download = await store.beginDownload(manifest);
    expect(await readFile(lock, "utf8")).toBe(String(process.pid));
    await download.close();
    await expect(readFile(lock, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("ignores a damaged state file (refetching is safe, trusting it is not)", async () => {
    const download = await store.beginDownload(manifest, { stateFlushIntervalMs: 0 });
    await download.writePiece(0, pieceOf(0));
    await download.close();
    await writeFile(path.join(dir, "partial", manifest.root, "state.json"), '{"version":1,"root":"x","pieceCount":1,"verified":"AQ=="}');
    expect((await store.beginDownload(manifest)).missingPieces()).toHaveLength(manifest.parts[0]!.pieces.length);
  });

  it("keeps a catalog of known models by root, sha256 or name", async () => {
    const catalog = createModelCatalog({ file: path.join(dir, "catalog.json") });
    expect(await catalog.list()).toEqual([]);
    const entry = { name: "tiny", quantization: "F32", size: original.byteLength, root: manifest.root, sha256: manifest.parts[0]!.sha256, httpSources: [{ url: "https://example.org/tiny.gguf", sha256: manifest.parts[0]!.sha256 }] };
    await catalog.put(entry);
    await catalog.put({ ...entry, name: "tiny-renamed" });
    expect(await catalog.list()).toHaveLength(1);
    expect(await catalog.find(manifest.root)).toMatchObject({ name: "tiny-renamed" });
    expect(await catalog.find(manifest.parts[0]!.sha256)).toBeDefined();
    expect(await catalog.find("tiny-renamed")).toBeDefined();
    await expect(catalog.put({ ...entry, root: "nope" })).rejects.toThrow();
  });
});
