import { open, rm } from "node:fs/promises";
import { BinaryBuilder } from "./binary-builder.js";
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgufValueType,
  alignUp,
  ggmlTensorByteSize,
} from "./gguf-types.js";
import type { GgmlType } from "./gguf-types.js";
import type { GgufScalar, GgufScalarValueType, GgufTypedValue } from "./gguf-values.js";

export interface GgufTensorSpec {
  readonly name: string;
  /** ggml order: the row (input) dimension first. */
  readonly dims: readonly number[];
  readonly type: GgmlType;
}

export interface GgufWriteInput {
  /** Written in this order; `general.alignment` (u32, power of two) sets the alignment, default 32. */
  readonly kv: ReadonlyArray<readonly [string, GgufTypedValue]>;
  readonly tensors: readonly GgufTensorSpec[];
  /** Called once per tensor, in order; must return exactly the tensor's byte size. */
  readonly tensorData: (tensor: GgufTensorSpec, index: number) => Uint8Array | Promise<Uint8Array>;
  /** Sees every byte written, in order (e.g. to hash while writing). */
  readonly onChunk?: (chunk: Uint8Array) => void;
}

export interface GgufWrittenTensor {
  readonly name: string;
  readonly offset: number;
  readonly byteSize: number;
}

export interface GgufWriteResult {
  readonly fileSize: number;
  readonly dataOffset: number;
  readonly tensors: readonly GgufWrittenTensor[];
}

/**
 * Writes a GGUF v3 file. The header is built in memory; tensor data is produced and written one tensor
 * at a time so a large model is never held whole. A failed write removes the partial file.
 */
export async function writeGgufFile(path: string, input: GgufWriteInput): Promise<GgufWriteResult> {
  const alignment = alignmentOf(input.kv);
  const layout = layoutTensors(input.tensors, alignment);
  const header = encodeHeader(input, layout, alignment);
  const handle = await open(path, "w");
  try {
    let written = 0;
    const write = async (chunk: Uint8Array): Promise<void> => {
      input.onChunk?.(chunk);
      await handle.write(chunk);
      written += chunk.length;
    };
    await write(header);
    for (const [index, tensor] of input.tensors.entries()) {
      const placed = layout[index]!;
      const data = await input.tensorData(tensor, index);
      if (data.length !== placed.byteSize) {
        throw new Error(`tensor ${tensor.name}: got ${data.length} bytes, its shape and type need ${placed.byteSize}`);
      }
      await write(data);
      // llama.cpp's own writer pads after every tensor, the last one included.
      const padding = alignUp(data.length, alignment) - data.length;
      if (padding > 0) await write(new Uint8Array(padding));
    }
    await handle.close();
    return { fileSize: written, dataOffset: header.length, tensors: layout };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

function alignmentOf(kv: GgufWriteInput["kv"]): number {
  const entry = kv.find(([key]) => key === "general.alignment");
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  const value = entry[1];
  if (value.type !== GgufValueType.UINT32 || value.value <= 0 || (value.value & (value.value - 1)) !== 0) {
    throw new Error("general.alignment must be a u32 power of two");
  }
  return value.value;
}

function layoutTensors(tensors: readonly GgufTensorSpec[], alignment: number): GgufWrittenTensor[] {
  let offset = 0;
  const names = new Set<string>();
  return tensors.map((tensor) => {
    // ggml's GGML_MAX_NAME is 64 including the terminator; llama.cpp rejects duplicates.
    if (Buffer.byteLength(tensor.name) >= 64) throw new Error(`tensor name ${tensor.name} is 64 bytes or longer`);
    if (names.has(tensor.name)) throw new Error(`duplicate tensor name ${tensor.name}`);
    names.add(tensor.name);
    if (tensor.dims.length < 1 || tensor.dims.length > 4) {
      throw new Error(`tensor ${tensor.name}: ${tensor.dims.length} dimensions, GGUF allows 1 to 4`);
    }
    const byteSize = ggmlTensorByteSize(tensor.type, tensor.dims);
    if (byteSize === undefined) throw new Error(`tensor ${tensor.name}: unknown ggml type ${tensor.type}`);
    const placed = { name: tensor.name, offset, byteSize };
    offset += alignUp(byteSize, alignment);
    return placed;
  });
}

function encodeHeader(input: GgufWriteInput, layout: readonly GgufWrittenTensor[], alignment: number): Buffer {
  const out = new BinaryBuilder();
  out.bytes(Buffer.from(GGUF_MAGIC, "ascii"));
  out.u32(GGUF_VERSION);
  out.u64(input.tensors.length);
  out.u64(input.kv.length);
  for (const [key, value] of input.kv) {
    out.string(key);
    out.u32(value.type);
    if (value.type === GgufValueType.ARRAY) {
      out.u32(value.itemType);
      out.u64(value.value.length);
      for (const item of value.value) writeScalar(out, value.itemType, item, key);
    } else {
      writeScalar(out, value.type, value.value, key);
    }
  }
  for (const [index, tensor] of input.tensors.entries()) {
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(dim);
    out.u32(tensor.type);
    out.u64(layout[index]!.offset);
  }
  out.zeros(alignUp(out.size, alignment) - out.size);
  return out.toBuffer();
}

function writeScalar(out: BinaryBuilder, type: GgufScalarValueType, value: GgufScalar, key: string): void {
  const mismatch = (): Error => new Error(`key ${key}: value ${String(value)} does not fit GGUF type ${GgufValueType[type]}`);
  switch (type) {
    case GgufValueType.STRING:
      if (typeof value !== "string") throw mismatch();
      return out.string(value);
    case GgufValueType.BOOL:
      if (typeof value !== "boolean") throw mismatch();
      return out.u8(value ? 1 : 0);
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
      if (typeof value !== "bigint") throw mismatch();
      return type === GgufValueType.UINT64 ? out.u64(value) : out.i64(value);
    default:
      if (typeof value !== "number") throw mismatch();
      return writeNumber(out, type, value);
  }
}

function writeNumber(out: BinaryBuilder, type: GgufScalarValueType, value: number): void {
  switch (type) {
    case GgufValueType.UINT8:
      return out.u8(value);
    case GgufValueType.INT8:
      return out.i8(value);
    case GgufValueType.UINT16:
      return out.u16(value);
    case GgufValueType.INT16:
      return out.i16(value);
    case GgufValueType.UINT32:
      return out.u32(value);
    case GgufValueType.INT32:
      return out.i32(value);
    case GgufValueType.FLOAT32:
      return out.f32(value);
    case GgufValueType.FLOAT64:
      return out.f64(value);
    default:
      throw new Error(`GGUF type ${GgufValueType[type]} is not numeric`);
  }
}
