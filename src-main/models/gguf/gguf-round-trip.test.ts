import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectGgufFile } from "./gguf-reader.js";
import { GgmlType, GgufValueType } from "./gguf-types.js";
import { ggufValue } from "./gguf-values.js";
import { writeGgufFile } from "./gguf-writer.js";
import type { GgufTensorSpec } from "./gguf-writer.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gguf-round-trip-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tensors: GgufTensorSpec[] = [
  { name: "a.weight", dims: [3], type: GgmlType.F32 },
  { name: "b.weight", dims: [32, 2], type: GgmlType.Q8_0 },
  { name: "c.weight", dims: [5, 3, 2], type: GgmlType.F16 },
];

function fillBytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

describe("GGUF writer → reader", () => {
  it("round-trips every value type and the tensor infos", async () => {
    const path = join(dir, "all-types.gguf");
    const kv = [
      ["general.alignment", ggufValue.u32(32)],
      ["t.u8", ggufValue.u8(250)],
      ["t.i8", ggufValue.i8(-5)],
      ["t.u16", ggufValue.u16(65000)],
      ["t.i16", ggufValue.i16(-30000)],
      ["t.u32", ggufValue.u32(4_000_000_000)],
      ["t.i32", ggufValue.i32(-2_000_000_000)],
      ["t.f32", ggufValue.f32(1.5)],
      ["t.f64", ggufValue.f64(Math.PI)],
      ["t.u64", ggufValue.u64(2n ** 63n + 5n)],
      ["t.i64", ggufValue.i64(-(2n ** 62n))],
      ["t.bool", ggufValue.bool(true)],
      ["t.string", ggufValue.string("héllo ▁wörld")],
      ["t.empty", ggufValue.string("")],
      ["t.strings", ggufValue.array(GgufValueType.STRING, ["<s>", "▁the", ""])],
      ["t.floats", ggufValue.array(GgufValueType.FLOAT32, [0.5, -1, 3])],
      ["t.ints", ggufValue.array(GgufValueType.INT32, [-1, 0, 6])],
      ["t.bools", ggufValue.array(GgufValueType.BOOL, [true, false])],
      ["t.u64s", ggufValue.array(GgufValueType.UINT64, [1n, 2n])],
      ["t.none", ggufValue.array(GgufValueType.UINT8, [])],
    ] as const;
    const data = [fillBytes(12, 1), fillBytes(68, 2), fillBytes(60, 3)];
    const written = await writeGgufFile(path, { kv, tensors, tensorData: (_t, i) => data[i]! });

    const summary = await inspectGgufFile(path);
    expect(summary.version).toBe(3);
    expect(summary.alignment).toBe(32);
    expect(Object.fromEntries(summary.kv)).toEqual({
      "general.alignment": 32,
      "t.u8": 250,
      "t.i8": -5,
      "t.u16": 65000,
      "t.i16": -30000,
      "t.u32": 4_000_000_000,
      "t.i32": -2_000_000_000,
      "t.f32": 1.5,
      "t.f64": Math.PI,
      "t.u64": 2n ** 63n + 5n,
      "t.i64": -(2n ** 62n),
      "t.bool": true,
      "t.string": "héllo ▁wörld",
      "t.empty": "",
      "t.strings": ["<s>", "▁the", ""],
      "t.floats": [0.5, -1, 3],
      "t.ints": [-1, 0, 6],
      "t.bools": [true, false],
      "t.u64s": [1n, 2n],
      "t.none": [],
    });
    expect(summary.tensors).toEqual([
      { name: "a.weight", dims: [3], type: GgmlType.F32, offset: 0, byteSize: 12 },
      { name: "b.weight", dims: [32, 2], type: GgmlType.Q8_0, offset: 32, byteSize: 68 },
      { name: "c.weight", dims: [5, 3, 2], type: GgmlType.F16, offset: 128, byteSize: 60 },
    ]);
    expect(summary.dataOffset % 32).toBe(0);
    expect(summary.dataOffset).toBe(written.dataOffset);
    expect(summary.expectedFileSize).toBe(summary.dataOffset + 128 + 60);
    // The writer pads after the last tensor too, as llama.cpp's writer does.
    expect(summary.fileSize).toBe(summary.dataOffset + 128 + 64);
    expect(written.fileSize).toBe(summary.fileSize);

    const file = await readFile(path);
    for (const [i, tensor] of summary.tensors.entries()) {
      const start = summary.dataOffset + tensor.offset;
      expect(file.subarray(start, start + tensor.byteSize)).toEqual(Buffer.from(data[i]!));
    }
  });

  it("refuses tensor data of the wrong size and leaves no file behind", async () => {
    const path = join(dir, "wrong-size.gguf");
    await expect(
      writeGgufFile(path, { kv: [], tensors: [tensors[0]!], tensorData: () => new Uint8Array(8) }),
    ).rejects.toThrow(/got 8 bytes.*need 12/);
    await expect(readFile(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses rows that are not whole Q8_0 blocks", async () => {
    const path = join(dir, "bad-row.gguf");
    const bad: GgufTensorSpec = { name: "x", dims: [48, 2], type: GgmlType.Q8_0 };
    await expect(writeGgufFile(path, { kv: [], tensors: [bad], tensorData: () => new Uint8Array(0) })).rejects.toThrow(
      /multiple of the Q8_0 block size 32/,
    );
  });
});
