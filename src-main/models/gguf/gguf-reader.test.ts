import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelFileError } from "../errors.js";
import { writeSyntheticModel } from "../synthetic/synthetic-model.js";
import { inspectGgufFile } from "./gguf-reader.js";
import { GgmlType } from "./gguf-types.js";
import { ggufValue } from "./gguf-values.js";
import { writeGgufFile } from "./gguf-writer.js";

let dir: string;
let modelBytes: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gguf-reader-"));
  const model = await writeSyntheticModel({ preset: "tiny", seed: 7, quantization: "F16" }, join(dir, "good.gguf"));
  modelBytes = await readFile(model.path);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function variant(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

async function inspectError(path: string): Promise<ModelFileError> {
  const error: unknown = await inspectGgufFile(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelFileError);
  return error as ModelFileError;
}

describe("inspectGgufFile rejects bad files", () => {
  it("accepts the good file", async () => {
    const summary = await inspectGgufFile(join(dir, "good.gguf"));
    expect(summary.fileSize).toBe(modelBytes.length);
    expect(summary.expectedFileSize).toBeLessThanOrEqual(summary.fileSize);
  });

  it("missing file → MODEL_NOT_FOUND", async () => {
    const missing = join(dir, "nope", "missing.gguf");
    const error = await inspectError(missing);
    expect(error.code).toBe("MODEL_NOT_FOUND");
    expect(error.message).toContain(missing);
    expect(error.message).toMatch(/check the path/);
  });

  it("a directory → MODEL_NOT_FOUND", async () => {
    expect((await inspectError(dir)).code).toBe("MODEL_NOT_FOUND");
  });

  it("a text file → MODEL_NOT_GGUF naming the magic found", async () => {
    const error = await inspectError(await variant("notes.txt", Buffer.from("hello, this is not a model\n")));
    expect(error.code).toBe("MODEL_NOT_GGUF");
    expect(error.message).toContain('"hell"');
    expect(error.message).toContain('starts with "GGUF"');
  });

  it("an empty file → MODEL_NOT_GGUF", async () => {
    expect((await inspectError(await variant("empty.gguf", new Uint8Array(0)))).code).toBe("MODEL_NOT_GGUF");
  });

  it("a file cut in half → MODEL_TRUNCATED with both sizes", async () => {
    const path = await variant("half.gguf", modelBytes);
    const half = Math.floor(modelBytes.length / 2);
    await truncate(path, half);
    const error = await inspectError(path);
    expect(error.code).toBe("MODEL_TRUNCATED");
    expect(error.message).toContain(String(half));
    expect(error.message).toContain(String((await inspectGgufFile(join(dir, "good.gguf"))).expectedFileSize));
    expect(error.message).toMatch(/incomplete/);
  });

  it("a file cut inside the header → MODEL_TRUNCATED", async () => {
    const error = await inspectError(await variant("header-cut.gguf", modelBytes.subarray(0, 5000)));
    expect(error.code).toBe("MODEL_TRUNCATED");
    expect(error.message).toContain("5000");
  });

  it("an unknown version → MODEL_UNSUPPORTED_VERSION", async () => {
    const bytes = Buffer.from(modelBytes);
    bytes.writeUInt32LE(99, 4);
    const error = await inspectError(await variant("v99.gguf", bytes));
    expect(error.code).toBe("MODEL_UNSUPPORTED_VERSION");
    expect(error.message).toContain("99");
  });

  it("a big-endian version → MODEL_UNSUPPORTED_VERSION with a hint", async () => {
    const bytes = Buffer.from(modelBytes);
    bytes.writeUInt32BE(3, 4);
    const error = await inspectError(await variant("big-endian.gguf", bytes));
    expect(error.code).toBe("MODEL_UNSUPPORTED_VERSION");
    expect(error.message).toMatch(/big-endian/);
  });

  it("an absurd string length → MODEL_CORRUPT", async () => {
    const bytes = Buffer.from(modelBytes);
    bytes.writeBigUInt64LE(2n ** 40n, 24); // length of the first key, right after the 24-byte header
    const error = await inspectError(await variant("long-string.gguf", bytes));
    expect(error.code).toBe("MODEL_CORRUPT");
    expect(error.message).toMatch(/length of 1099511627776 bytes/);
  });

  it("an absurd tensor count → MODEL_CORRUPT", async () => {
    const bytes = Buffer.from(modelBytes);
    bytes.writeBigUInt64LE(2n ** 60n, 8);
    expect((await inspectError(await variant("tensor-count.gguf", bytes))).code).toBe("MODEL_CORRUPT");
  });

  it("an absurd array length → MODEL_CORRUPT", async () => {
    const bytes = Buffer.from(modelBytes);
    const key = Buffer.from("tokenizer.ggml.tokens");
    const at = bytes.indexOf(key) + key.length + 4 + 4; // value type ARRAY, item type STRING, then u64 length
    bytes.writeBigUInt64LE(2n ** 50n, at);
    const error = await inspectError(await variant("array-length.gguf", bytes));
    expect(error.code).toBe("MODEL_CORRUPT");
    expect(error.message).toContain("tokenizer.ggml.tokens");
  });

  it("a misplaced tensor offset → MODEL_CORRUPT", async () => {
    const bytes = Buffer.from(modelBytes);
    const name = Buffer.from("output.weight");
    const at = bytes.lastIndexOf(name) + name.length + 4 + 2 * 8 + 4; // n_dims, 2 dims, type, then offset
    bytes.writeBigUInt64LE(bytes.readBigUInt64LE(at) + 32n, at);
    const error = await inspectError(await variant("offset.gguf", bytes));
    expect(error.code).toBe("MODEL_CORRUPT");
    expect(error.message).toMatch(/output\.weight.*expected/);
  });

  it("an unknown tensor type → MODEL_UNSUPPORTED_TENSOR_TYPE", async () => {
    const path = join(dir, "odd-type.gguf");
    await writeGgufFile(path, {
      kv: [["general.alignment", ggufValue.u32(32)]],
      tensors: [{ name: "x", dims: [4], type: GgmlType.F32 }],
      tensorData: () => new Uint8Array(16),
    });
    const bytes = await readFile(path);
    const at = bytes.indexOf(Buffer.from("x\u0001\u0000\u0000\u0000")) + 1 + 4 + 8; // name, n_dims, dim
    bytes.writeUInt32LE(200, at);
    const error = await inspectError(await variant("odd-type.gguf", bytes));
    expect(error.code).toBe("MODEL_UNSUPPORTED_TENSOR_TYPE");
    expect(error.message).toContain("200");
  });
});
