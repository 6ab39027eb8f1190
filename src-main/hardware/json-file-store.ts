import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { HardwareError } from "./hardware-errors.js";

/** A few small JSON documents by name. */
export interface JsonStore {
  /** The stored value, or undefined if there is none. Throws HARDWARE_STORE_CORRUPT for unreadable JSON. */
  read(key: string): Promise<unknown>;
  /** Replaces the value atomically: a reader sees the old document or the new one, never half of one. */
  write(key: string, value: unknown): Promise<void>;
}

function fileFor(dir: string, key: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(key)) throw new RangeError(`Store keys are lower-case letters, digits and dashes; got "${key}".`);
  return path.join(dir, `${key}.json`);
}

/** One `<key>.json` file per key under `dir` (created on first write). */
export function createJsonFileStore(options: { dir: string }): JsonStore {
  return {
    async read(key) {
      const file = fileFor(options.dir, key);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new HardwareError("HARDWARE_STORE_CORRUPT", `${file} is not valid JSON; delete it and it will be written again.`, { cause: error });
      }
    },
    async write(key, value) {
      const file = fileFor(options.dir, key);
      await mkdir(options.dir, { recursive: true });
      const temporary = `${file}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
      try {
        await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
  };
}
