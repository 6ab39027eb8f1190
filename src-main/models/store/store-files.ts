import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { InferSwarmError } from "../../common/index.js";

export type ModelStoreErrorCode =
  /** A manifest breaks its schema or its root does not match its contents. */
  | "MODEL_STORE_MANIFEST_INVALID"
  /** A file on disk does not match the manifest that names it (size or hash). */
  | "MODEL_STORE_MANIFEST_MISMATCH"
  /** Not enough free space for the download, or the disk filled up while writing. */
  | "MODEL_STORE_DISK_FULL"
  | "MODEL_STORE_NOT_FOUND"
  /** Another live process is fetching the same model into this store. */
  | "MODEL_STORE_LOCKED"
  /** A piece or state file could not be read or written for another reason. */
  | "MODEL_STORE_IO";

export class ModelStoreError extends InferSwarmError {
  declare readonly code: ModelStoreErrorCode;

  constructor(code: ModelStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** ENOSPC and EDQUOT become a clear disk-full error; other failures keep their cause. */
export function storeIoError(error: unknown, what: string): ModelStoreError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ModelStoreError("MODEL_STORE_DISK_FULL", `The disk is full while ${what}; free some space and fetch again (verified pieces are kept).`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ModelStoreError("MODEL_STORE_IO", `Could not finish ${what}: ${detail}.`, { cause: error });
}

/**
 * Writes a small file whole or not at all: temp file, fsync, rename. `sync: false` skips the fsync for
 * files whose loss after a crash only costs a refetch (a download's state and manifest): each fsync is
 * tens of milliseconds on a busy disk.
 */
export async function writeAtomically(file: string, text: string, options: { sync?: boolean } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(text);
      if (options.sync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw storeIoError(error, `writing ${file}`);
  }
}

