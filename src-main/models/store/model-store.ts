import { open, mkdir, readdir, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { modelManifestSchema, buildManifest, parseManifest, pieceSpans, type ModelManifest, type PieceSpan } from "./model-manifest.js";
import { openPartialDownload, type PartialDownload, type PartialDownloadOptions } from "./partial-download.js";
import { ModelStoreError, storeIoError, writeAtomically } from "./store-files.js";

/** A model this node holds whole: its manifest and where each part is on disk. */
export interface HeldModel {
  readonly manifest: ModelManifest;
  /** Absolute paths, one per manifest part, in order; the first is what the engine loads (with mmap). */
  readonly paths: readonly string[];
}

/** Reads verified pieces of a held model for serving; keeps its file handles until closed. */
export interface PieceReader {
  readonly manifest: ModelManifest;
  read(index: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface ModelStore {
  readonly dir: string;
  /** Held models whose files are still there with the sizes and times they were hashed at. */
  list(): Promise<HeldModel[]>;
  get(root: string): Promise<HeldModel | undefined>;
  /** By the first part's sha256 (how adverts and jobs name a model). */
  findBySha256(sha256: string): Promise<HeldModel | undefined>;
  /**
   * Holds files that are already on disk (a GGUF the owner serves) without copying them. The manifest
   * is computed once and reused while the files keep their sizes and modification times.
   */
  addFiles(partPaths: readonly string[], options?: { pieceSize?: number }): Promise<HeldModel>;
  openPieceReader(model: HeldModel): Promise<PieceReader>;
  /** Starts or resumes fetching a model into the store (see PartialDownload). */
  beginDownload(manifest: ModelManifest, options?: PartialDownloadOptions): Promise<PartialDownload>;
  /** A manifest left by an interrupted download, so it can resume without asking a peer. */
  partialManifest(root: string): Promise<ModelManifest | undefined>;
}

const heldRecordSchema = z.strictObject({
  version: z.literal(1),
  manifest: modelManifestSchema,
  paths: z.array(z.string().min(1).max(4096)).min(1).max(64),
  /** What each file looked like when hashed: a change means it must be hashed again. */
  files: z.array(z.strictObject({ size: z.number().int().nonnegative(), mtimeMs: z.number() })),
});
type HeldRecord = z.infer<typeof heldRecordSchema>;

const rootPattern = /^[0-9a-f]{64}$/;

/**
 * The model store: `held/<root>.json` records which files hold which model (owner's files stay where they
 * are; fetched ones live in `models/<root>/`), `partial/<root>/` holds downloads in progress.
 */
export function createModelStore(options: { dir: string }): ModelStore {
  const dir = path.resolve(options.dir);
  const heldDir = path.join(dir, "held");
  const modelsDir = path.join(dir, "models");
  const partialDir = path.join(dir, "partial");

  async function readRecord(root: string): Promise<HeldRecord | undefined> {
    if (!rootPattern.test(root)) return undefined;
    let text: string;
    try {
      text = await readFile(path.join(heldDir, `${root}.json`), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw storeIoError(error, `reading the record of model ${root}`);
    }
    const parsed = heldRecordSchema.safeParse(JSON.parse(text));
    if (!parsed.success || parsed.data.manifest.root !== root || parsed.data.paths.length !== parsed.data.manifest.parts.length) return undefined;
    return parsed.data;
  }

  /** A record is usable while every file has the size and time it was hashed at. */
  async function stillValid(record: HeldRecord): Promise<boolean> {
    for (const [index, filePath] of record.paths.entries()) {
      try {
        const info = await stat(filePath);
        const expected = record.files[index];
        if (!expected || info.size !== expected.size || info.mtimeMs !== expected.mtimeMs || info.size !== record.manifest.parts[index]!.size) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  async function writeRecord(manifest: ModelManifest, paths: readonly string[]): Promise<HeldModel> {
    const files = [];
    for (const filePath of paths) {
      const info = await stat(filePath);
      files.push({ size: info.size, mtimeMs: info.mtimeMs });
    }
    const record: HeldRecord = { version: 1, manifest, paths: [...paths], files };
    await writeAtomically(path.join(heldDir, `${manifest.root}.json`), JSON.stringify(record));
    return { manifest, paths: record.paths };
  }

  async function get(root: string): Promise<HeldModel | undefined> {
    const record = await readRecord(root);
    if (!record || !(await stillValid(record))) return undefined;
    return { manifest: record.manifest, paths: record.paths };
  }

  async function list(): Promise<HeldModel[]> {
    let names: string[];
    try {
      names = await readdir(heldDir);
    } catch {
      return [];
    }
    const held: HeldModel[] = [];
    for (const name of names) {
      if (!name.endsWith(".json")) continue;
      const model = await get(name.slice(0, -".json".length));
      if (model) held.push(model);
    }
    return held;
  }

  return {
    dir,
    list,
    get,
    async findBySha256(sha256) {
      return (await list()).find((model) => model.manifest.parts[0]!.sha256 === sha256);
    },
    async addFiles(partPaths, addOptions = {}) {
      const paths = partPaths.map((partPath) => path.resolve(partPath));
      for (const model of await list()) {
        const samePaths = model.paths.length === paths.length && model.paths.every((p, i) => p === paths[i]);
        if (samePaths && (addOptions.pieceSize === undefined || addOptions.pieceSize === model.manifest.pieceSize)) return model;
      }
      const manifest = await buildManifest(paths, addOptions);
      await mkdir(heldDir, { recursive: true });
      return writeRecord(manifest, paths);
    },
    async openPieceReader(model) {
      const spans = pieceSpans(model.manifest);
      const handles: (FileHandle | undefined)[] = model.paths.map(() => undefined);
      return {
        manifest: model.manifest,
        async read(index) {
          const span = spans[index];
          if (!span) throw new ModelStoreError("MODEL_STORE_NOT_FOUND", `Model ${model.manifest.root} has ${spans.length} pieces; there is no piece ${index}.`);
          const handle = (handles[span.part] ??= await open(model.paths[span.part]!, "r"));
          const buffer = Buffer.allocUnsafe(span.length);
          const { bytesRead } = await handle.read(buffer, 0, span.length, span.offset);
          if (bytesRead !== span.length) {
            throw new ModelStoreError("MODEL_STORE_MANIFEST_MISMATCH", `${model.paths[span.part]} is shorter than its manifest says; it changed on disk. Re-add the model.`);
          }
          return buffer;
        },
        async close() {
          await Promise.all(handles.map((handle) => handle?.close().catch(() => undefined)));
        },
      };
    },
    async beginDownload(manifest, downloadOptions) {
      const checked = parseManifest(manifest);
      const target = path.join(modelsDir, checked.root);
      return openPartialDownload({
        manifest: checked,
        dir: path.join(partialDir, checked.root),
        ...downloadOptions,
        // The record goes first, naming where the files will be: a crash before the rename leaves a
        // record whose files are missing (ignored) and a complete partial download that finishes again.
        complete: async (filesDir) => {
          await mkdir(heldDir, { recursive: true });
          await mkdir(modelsDir, { recursive: true });
          await rm(target, { recursive: true, force: true });
          await rename(filesDir, target);
          return writeRecord(
            checked,
            checked.parts.map((part) => path.join(target, part.fileName)),
          );
        },
      });
    },
    async partialManifest(root) {
      if (!rootPattern.test(root)) return undefined;
      try {
        return parseManifest(JSON.parse(await readFile(path.join(partialDir, root, "manifest.json"), "utf8")), root);
      } catch {
        return undefined;
      }
    },
  };
}

export type { PieceSpan };
