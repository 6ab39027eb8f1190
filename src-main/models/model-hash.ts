import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { ModelFileError } from "./errors.js";

/** The model's content hash: sha256 of the file's bytes, lowercase hex. Streams, so any size is fine. */
export async function hashModelFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
      hash.update(chunk as Buffer);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") {
      throw new ModelFileError("MODEL_NOT_FOUND", path, `Model file ${path} does not exist: check the path.`, { cause: error });
    }
    throw error;
  }
  return hash.digest("hex");
}
