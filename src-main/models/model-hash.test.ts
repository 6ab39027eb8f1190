import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashModelFile } from "./model-hash.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "model-hash-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("hashModelFile", () => {
  it("is the sha256 of the bytes, across chunk boundaries", async () => {
    const bytes = Buffer.alloc(9 * 1024 * 1024 + 7, 0);
    for (let i = 0; i < bytes.length; i += 4099) bytes[i] = i & 0xff;
    const path = join(dir, "blob.bin");
    await writeFile(path, bytes);
    expect(await hashModelFile(path)).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("hashes an empty file", async () => {
    const path = join(dir, "empty.bin");
    await writeFile(path, "");
    expect(await hashModelFile(path)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("reports a missing file as MODEL_NOT_FOUND", async () => {
    await expect(hashModelFile(join(dir, "missing.gguf"))).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
  });
});
