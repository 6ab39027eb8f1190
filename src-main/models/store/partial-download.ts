import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rm, statfs, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { hashPiece, manifestTotalBytes, pieceSpans, type ModelManifest, type PieceSpan } from "./model-manifest.js";
import { ModelStoreError, storeIoError, writeAtomically } from "./store-files.js";
import type { HeldModel } from "./model-store.js";

export interface PartialDownloadOptions {
  /** The verified-pieces state is written at most this often (after an fdatasync of the data); 0 = after every piece. */
  stateFlushIntervalMs?: number;
  /** Free bytes where the download is written; tests replace it to simulate a full disk. */
  freeBytes?: (dir: string) => Promise<number>;
  /** Headroom kept free beyond the missing bytes. */
  reserveBytes?: number;
  /**
   * Hash each part's whole file from disk while pieces still arrive (the contiguous verified prefix,
   * read back in order), so finishing need not read everything again. Default true.
   */
  hashWhileFetching?: boolean;
}

/**
 * A download in progress: part files written at their final size in `<dir>/files`, and `state.json`
 * naming the pieces verified so far. After a restart only the other pieces are fetched.
 */
export interface PartialDownload {
  readonly manifest: ModelManifest;
  readonly spans: readonly PieceSpan[];
  readonly totalBytes: number;
  isVerified(index: number): boolean;
  missingPieces(): number[];
  verifiedBytes(): number;
  /** Writes a piece the caller has verified against the manifest; the length is checked here. */
  writePiece(index: number, bytes: Uint8Array): Promise<void>;
  /**
   * Syncs, checks every part's whole-file sha256 and moves the files into the store in one rename.
   * Pieces found corrupt on disk are marked missing again and the call fails; fetching again resumes.
   */
  finish(): Promise<HeldModel>;
  /** Saves the state and closes the files; the download resumes with `beginDownload` later. */
  close(): Promise<void>;
}

const stateSchema = z.strictObject({
  version: z.literal(1),
  root: z.string(),
  pieceCount: z.number().int().nonnegative(),
  /** Bitfield, piece i at bit (i % 8) of byte floor(i / 8), base64. */
  verified: z.string().max(64 * 1024),
});

export async function openPartialDownload(
  options: PartialDownloadOptions & { manifest: ModelManifest; dir: string; complete: (filesDir: string) => Promise<HeldModel> },
): Promise<PartialDownload> {
  const { manifest, dir } = options;
  const spans = pieceSpans(manifest);
  const totalBytes = manifestTotalBytes(manifest);
  const filesDir = path.join(dir, "files");
  const statePath = path.join(dir, "state.json");
  const flushIntervalMs = options.stateFlushIntervalMs ?? 500;
  const bits = new Uint8Array(Math.ceil(spans.length / 8));
  const isVerified = (index: number) => (bits[index >> 3]! & (1 << (index & 7))) !== 0;
  const setVerified = (index: number, value: boolean) => {
    if (value) bits[index >> 3]! |= 1 << (index & 7);
    else bits[index >> 3]! &= ~(1 << (index & 7));
  };

  try {
    await mkdir(filesDir, { recursive: true });
  } catch (error) {
    throw storeIoError(error, `preparing the download folder ${dir}`);
  }
  const unlock = await lockDownload(path.join(dir, "lock"), manifest.root);
  try {
    // Unsynced: a manifest lost in a crash is asked of a peer again (and checked against the root).
    await writeAtomically(path.join(dir, "manifest.json"), JSON.stringify(manifest), { sync: false });
    await loadState();
  } catch (error) {
    await unlock();
    throw error;
  }

  let verifiedBytes = spans.reduce((sum, span, index) => sum + (isVerified(index) ? span.length : 0), 0);
  const missingBytes = totalBytes - verifiedBytes;
  const free = await (options.freeBytes ?? freeBytesAt)(dir);
  const reserve = options.reserveBytes ?? 16 * 1024 * 1024;
  if (free < missingBytes + reserve) {
    await unlock();
    throw new ModelStoreError(
      "MODEL_STORE_DISK_FULL",
      `Fetching model ${manifest.root} needs ${formatMiB(missingBytes + reserve)} free in ${dir} but only ${formatMiB(free)} is free; free some space and fetch again.`,
    );
  }

  const handles: FileHandle[] = [];
  try {
    for (const part of manifest.parts) {
      const filePath = path.join(filesDir, part.fileName);
      const handle = await open(filePath, "r+").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return open(filePath, "w+");
        throw error;
      });
      handles.push(handle);
      // Sparse at full size: pieces land at their offsets in any order.
      if ((await handle.stat()).size !== part.size) await handle.truncate(part.size);
    }
  } catch (error) {
    await Promise.all(handles.map((handle) => handle.close().catch(() => undefined)));
    await unlock();
    throw storeIoError(error, `creating the files of model ${manifest.root}`);
  }

  // Whole-file hashes built in the background over each part's contiguous verified prefix.
  const firstPieceOf = manifest.parts.map((_, part) => spans.findIndex((span) => span.part === part));
  const prefixHashes = manifest.parts.map((_, part) => ({ hash: createHash("sha256"), next: firstPieceOf[part]!, broken: false }));
  let hashing: Promise<void> | undefined;
  let hashBuffer: Buffer | undefined;

  /** Advances every part's prefix hash as far as verified pieces reach; one runner at a time. */
  function pumpHashes(): Promise<void> {
    if (options.hashWhileFetching === false) return Promise.resolve();
    hashing ??= (async () => {
      for (let progressed = true; progressed; ) {
        progressed = false;
        for (const [part, prefix] of prefixHashes.entries()) {
          while (!prefix.broken && prefix.next < spans.length && spans[prefix.next]!.part === part && isVerified(prefix.next)) {
            const span = spans[prefix.next]!;
            hashBuffer ??= Buffer.allocUnsafe(manifest.pieceSize);
            try {
              const { bytesRead } = await handles[part]!.read(hashBuffer, 0, span.length, span.offset);
              if (bytesRead !== span.length) throw new Error("short read");
            } catch {
              // Finishing reads the whole file again instead.
              prefix.broken = true;
              break;
            }
            prefix.hash.update(hashBuffer.subarray(0, span.length));
            prefix.next++;
            progressed = true;
          }
        }
      }
    })().finally(() => (hashing = undefined));
    return hashing;
  }

  const dirtyParts = new Set<number>();
  // A resumed download hashes what it already has while the rest arrives.
  void pumpHashes();
  let lastFlush = 0;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let flushChain: Promise<void> = Promise.resolve();
  let closed = false;

  async function loadState() {
    let text: string;
    try {
      text = await readFile(statePath, "utf8");
    } catch {
      return;
    }
    const parsed = stateSchema.safeParse(JSON.parse(text));
    // A state for another manifest (or a damaged one) is ignored: refetching is safe, trusting it is not.
    if (!parsed.success || parsed.data.root !== manifest.root || parsed.data.pieceCount !== spans.length) return;
    const saved = Buffer.from(parsed.data.verified, "base64");
    if (saved.byteLength === bits.byteLength) bits.set(saved);
  }

  /** Data first (fdatasync), then the state naming it: a crash never leaves a state ahead of its data. */
  function flush(): Promise<void> {
    const run = flushChain.then(async () => {
      const snapshot = Buffer.from(bits).toString("base64");
      const parts = [...dirtyParts];
      dirtyParts.clear();
      try {
        await Promise.all(parts.map((part) => handles[part]!.datasync()));
        // The data it names is already synced; a state lost or torn in a crash is ignored (refetch), never ahead.
        await writeAtomically(statePath, JSON.stringify({ version: 1, root: manifest.root, pieceCount: spans.length, verified: snapshot }), { sync: false });
      } catch (error) {
        for (const part of parts) dirtyParts.add(part);
        throw storeIoError(error, `saving the progress of model ${manifest.root}`);
      }
      lastFlush = Date.now();
    });
    flushChain = run.catch(() => undefined);
    return run;
  }

  function scheduleFlush() {
    if (flushTimer) return;
    const wait = Math.max(0, lastFlush + flushIntervalMs - Date.now());
    if (wait === 0) {
      void flush().catch(() => undefined);
      return;
    }
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flush().catch(() => undefined);
    }, wait);
  }

  async function closeHandles() {
    await hashing;
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    await Promise.all(handles.map((handle) => handle.close().catch(() => undefined)));
    await unlock();
  }

  return {
    manifest,
    spans,
    totalBytes,
    isVerified,
    missingPieces: () => spans.flatMap((_, index) => (isVerified(index) ? [] : [index])),
    verifiedBytes: () => verifiedBytes,
    async writePiece(index, bytes) {
      if (closed) throw new ModelStoreError("MODEL_STORE_IO", `The download of model ${manifest.root} was closed; begin it again to resume.`);
      const span = spans[index];
      if (!span) throw new ModelStoreError("MODEL_STORE_NOT_FOUND", `Model ${manifest.root} has ${spans.length} pieces; there is no piece ${index}.`);
      if (bytes.byteLength !== span.length) {
        throw new ModelStoreError("MODEL_STORE_MANIFEST_MISMATCH", `Piece ${index} must be ${span.length} bytes, not ${bytes.byteLength}.`);
      }
      if (isVerified(index)) return;
      try {
        const { bytesWritten } = await handles[span.part]!.write(bytes, 0, bytes.byteLength, span.offset);
        if (bytesWritten !== bytes.byteLength) throw Object.assign(new Error("short write"), { code: "ENOSPC" });
      } catch (error) {
        throw storeIoError(error, `writing piece ${index} of model ${manifest.root}`);
      }
      setVerified(index, true);
      verifiedBytes += span.length;
      dirtyParts.add(span.part);
      scheduleFlush();
      void pumpHashes();
    },
    async finish() {
      if (spans.some((_, index) => !isVerified(index))) {
        throw new ModelStoreError("MODEL_STORE_IO", `Model ${manifest.root} is not complete yet; fetch the missing pieces first.`);
      }
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      // No state write here: once the files are synced they are either moved into the store or, when
      // the check below fails, the state is written with the bad pieces cleared.
      await flushChain;
      try {
        await Promise.all(handles.map((handle) => handle.sync()));
      } catch (error) {
        throw storeIoError(error, `syncing model ${manifest.root} to disk`);
      }
      // The background hashes must cover every part to stand in for a full re-read.
      await hashing;
      await pumpHashes();
      const hashedParts = new Set(
        prefixHashes.flatMap((prefix, part) => (!prefix.broken && (prefix.next >= spans.length || spans[prefix.next]!.part !== part) && prefix.hash.digest("hex") === manifest.parts[part]!.sha256 ? [part] : [])),
      );
      await closeHandles();
      closed = true;
      const corrupt = await findCorruptPieces(filesDir, hashedParts);
      if (corrupt.length > 0) {
        // The disk lost or changed data after the pieces were verified: mark them missing and save that.
        for (const index of corrupt) setVerified(index, false);
        verifiedBytes = spans.reduce((sum, span, index) => sum + (isVerified(index) ? span.length : 0), 0);
        await writeAtomically(statePath, JSON.stringify({ version: 1, root: manifest.root, pieceCount: spans.length, verified: Buffer.from(bits).toString("base64") }));
        throw new ModelStoreError(
          "MODEL_STORE_MANIFEST_MISMATCH",
          `${corrupt.length} piece(s) of model ${manifest.root} no longer match their hashes on disk (a disk or filesystem fault); fetch again to replace only those.`,
        );
      }
      const held = await options.complete(filesDir);
      await rm(dir, { recursive: true, force: true });
      return held;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      await flush().catch(() => undefined);
      await closeHandles();
    },
  };

  /** Whole-file sha256 per part not already matched in the background; only when one differs are its pieces hashed to find the bad ones. */
  async function findCorruptPieces(folder: string, alreadyMatching: ReadonlySet<number>): Promise<number[]> {
    const corrupt: number[] = [];
    for (const [partIndex, part] of manifest.parts.entries()) {
      if (alreadyMatching.has(partIndex)) continue;
      const filePath = path.join(folder, part.fileName);
      const whole = createHash("sha256");
      for await (const chunk of createReadStream(filePath, { highWaterMark: 4 * 1024 * 1024 })) whole.update(chunk as Buffer);
      if (whole.digest("hex") === part.sha256) continue;
      const handle = await open(filePath, "r");
      try {
        for (const [index, span] of spans.entries()) {
          if (span.part !== partIndex) continue;
          const buffer = Buffer.alloc(span.length);
          await handle.read(buffer, 0, span.length, span.offset);
          if (hashPiece(buffer) !== span.sha256) corrupt.push(index);
        }
      } finally {
        await handle.close();
      }
      // Every piece matches yet the whole does not: the manifest itself is inconsistent.
      if (!corrupt.some((index) => spans[index]!.part === partIndex)) {
        throw new ModelStoreError("MODEL_STORE_MANIFEST_MISMATCH", `Part ${part.fileName} matches every piece hash but not its whole-file sha256; the manifest of ${manifest.root} is inconsistent. Delete ${dir} and fetch from another peer.`);
      }
    }
    return corrupt;
  }
}

/**
 * One process per download: `lock` holds the owner's pid. A lock whose process is gone (a crash) is
 * taken over; a live one means another process (a CLI fetch beside a running node) is at it.
 */
async function lockDownload(lockPath: string, root: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw storeIoError(error, `locking the download of model ${root}`);
    }
    const owner = Number((await readFile(lockPath, "utf8").catch(() => "")).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new ModelStoreError("MODEL_STORE_LOCKED", `Process ${owner} is already fetching model ${root} into this store; wait for it or stop it.`);
    }
    await rm(lockPath, { force: true });
  }
  throw new ModelStoreError("MODEL_STORE_LOCKED", `Could not lock the download of model ${root}; another process keeps taking it.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function freeBytesAt(dir: string): Promise<number> {
  const info = await statfs(dir);
  return Number(info.bavail) * Number(info.bsize);
}

function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
