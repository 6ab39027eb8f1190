import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Writes a whole file or nothing: a temporary file beside it (created exclusively, with the final mode
 * from the start), flushed, then renamed over the target. A crash leaves the old file, never half a new one.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { mode?: number; dirMode?: number } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: options.dirMode ?? 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temporary, "wx", options.mode ?? 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Removes a file; one that is already gone is fine. */
export async function removeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
