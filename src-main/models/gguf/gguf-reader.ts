import { open, stat } from "node:fs/promises";
import { ModelFileError } from "../errors.js";
import { BoundedFileReader, EndOfFileError } from "./bounded-file-reader.js";
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueType,
  alignUp,
  ggmlTensorByteSize,
  ggmlTypeName,
} from "./gguf-types.js";
import type { GgufScalar, GgufValue } from "./gguf-values.js";

/** Limits far above any real model's header, far below what would exhaust memory. */
export const GGUF_READ_LIMITS = {
  maxStringBytes: 1024 * 1024,
  maxArrayLength: 10_000_000,
  maxKvCount: 100_000,
  maxTensorCount: 100_000,
  /** ggml's GGML_MAX_NAME (64) includes the terminating NUL. */
  maxTensorNameBytes: 63,
  maxDims: 4,
} as const;

const SUPPORTED_VERSIONS = [2, 3];

export interface GgufTensorSummary {
  readonly name: string;
  readonly dims: readonly number[];
  /** ggml type number (see GgmlType). */
  readonly type: number;
  /** Relative to the data section. */
  readonly offset: number;
  readonly byteSize: number;
}

export interface GgufFileSummary {
  readonly version: number;
  readonly kv: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorSummary[];
  readonly alignment: number;
  /** Absolute file offset of the tensor data section. */
  readonly dataOffset: number;
  /** The smallest size the file can have: where the last tensor's data ends. */
  readonly expectedFileSize: number;
  readonly fileSize: number;
}

/**
 * Reads and validates a GGUF header, metadata and tensor infos (not the weights) without trusting any
 * length in the file, so a bad file becomes a ModelFileError instead of a llama.cpp crash.
 */
export async function inspectGgufFile(path: string): Promise<GgufFileSummary> {
  const fileSize = await regularFileSize(path);
  const handle = await open(path, "r");
  try {
    const reader = new BoundedFileReader(handle, fileSize);
    try {
      return await parse(reader, path);
    } catch (error) {
      if (error instanceof EndOfFileError) {
        throw new ModelFileError(
          "MODEL_TRUNCATED",
          path,
          `Model file ${path} is truncated: it is ${fileSize} bytes but its header needs at least ` +
            `${error.neededBytes} bytes (while reading ${error.what}). The file is incomplete: ` +
            `re-download or regenerate it.`,
        );
      }
      throw error;
    }
  } finally {
    await handle.close();
  }
}

async function regularFileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new ModelFileError("MODEL_NOT_FOUND", path, `Model path ${path} is not a regular file: check the path.`);
    }
    return info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new ModelFileError("MODEL_NOT_FOUND", path, `Model file ${path} does not exist: check the path.`, {
        cause: error,
      });
    }
    throw error;
  }
}

async function parse(reader: BoundedFileReader, path: string): Promise<GgufFileSummary> {
  const corrupt = (message: string): ModelFileError =>
    new ModelFileError("MODEL_CORRUPT", path, `Model file ${path} is corrupt: ${message}.`);

  await checkMagic(reader, path);
  const version = await checkVersion(reader, path);
  const tensorCount = await boundedCount(reader, "tensor count", GGUF_READ_LIMITS.maxTensorCount, corrupt);
  const kvCount = await boundedCount(reader, "metadata count", GGUF_READ_LIMITS.maxKvCount, corrupt);

  const kv = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = await readString(reader, `metadata key ${i}`, corrupt);
    if (key.length === 0) throw corrupt(`metadata key ${i} is empty`);
    if (kv.has(key)) throw corrupt(`metadata key "${key}" appears twice`);
    kv.set(key, await readValue(reader, key, corrupt));
  }
  const alignment = alignmentOf(kv, corrupt);

  const tensors: GgufTensorSummary[] = [];
  const names = new Set<string>();
  let expectedOffset = 0;
  for (let i = 0; i < tensorCount; i++) {
    const tensor = await readTensorInfo(reader, i, path, corrupt);
    if (names.has(tensor.name)) throw corrupt(`tensor name "${tensor.name}" appears twice`);
    names.add(tensor.name);
    // llama.cpp requires tensors in file order, each at the aligned end of the previous one.
    if (tensor.offset !== expectedOffset) {
      throw corrupt(`tensor "${tensor.name}" is at data offset ${tensor.offset}, expected ${expectedOffset}`);
    }
    expectedOffset += alignUp(tensor.byteSize, alignment);
    tensors.push(tensor);
  }

  const headerEnd = reader.offset;
  const dataOffset = alignUp(headerEnd, alignment);
  const dataEnd = tensors.reduce((end, t) => Math.max(end, dataOffset + t.offset + t.byteSize), headerEnd);
  if (!Number.isSafeInteger(dataEnd)) throw corrupt("tensor data would end beyond 2^53 bytes");
  if (reader.fileSize < dataEnd) {
    throw new ModelFileError(
      "MODEL_TRUNCATED",
      path,
      `Model file ${path} is truncated: it is ${reader.fileSize} bytes but its tensors need ${dataEnd} bytes. ` +
        `The file is incomplete: re-download or regenerate it.`,
    );
  }
  return { version, kv, tensors, alignment, dataOffset, expectedFileSize: dataEnd, fileSize: reader.fileSize };
}

async function checkMagic(reader: BoundedFileReader, path: string): Promise<void> {
  if (reader.fileSize < 4) {
    throw new ModelFileError(
      "MODEL_NOT_GGUF",
      path,
      `Model file ${path} is not a GGUF file: it is only ${reader.fileSize} bytes, a GGUF file starts with "GGUF".`,
    );
  }
  const magic = await reader.take(4, "magic");
  if (magic.toString("latin1") !== GGUF_MAGIC) {
    const hex = [...magic].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
    const printable = [...magic].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".")).join("");
    throw new ModelFileError(
      "MODEL_NOT_GGUF",
      path,
      `Model file ${path} is not a GGUF file: it starts with "${printable}" (${hex}), a GGUF file starts with "GGUF".`,
    );
  }
}

async function checkVersion(reader: BoundedFileReader, path: string): Promise<number> {
  const version = await reader.u32("version");
  if (SUPPORTED_VERSIONS.includes(version)) return version;
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(version);
  const hint = SUPPORTED_VERSIONS.includes(bytes.readUInt32BE(0))
    ? " It looks like a big-endian GGUF file, which this machine cannot use."
    : version === 1
      ? " GGUF v1 is obsolete: convert the model again with a current llama.cpp."
      : "";
  throw new ModelFileError(
    "MODEL_UNSUPPORTED_VERSION",
    path,
    `Model file ${path} is GGUF version ${version}; supported versions are ${SUPPORTED_VERSIONS.join(" and ")}.${hint}`,
  );
}

type CorruptFactory = (message: string) => ModelFileError;

async function boundedCount(
  reader: BoundedFileReader,
  what: string,
  max: number,
  corrupt: CorruptFactory,
): Promise<number> {
  const count = await reader.u64(what);
  if (count > BigInt(max)) throw corrupt(`${what} is ${count}, more than the limit of ${max}`);
  return Number(count);
}

async function readString(
  reader: BoundedFileReader,
  what: string,
  corrupt: CorruptFactory,
  max: number = GGUF_READ_LIMITS.maxStringBytes,
): Promise<string> {
  const length = await reader.u64(`${what} length`);
  if (length > BigInt(max)) throw corrupt(`${what} claims a length of ${length} bytes, more than the limit of ${max}`);
  return (await reader.take(Number(length), what)).toString("utf8");
}

/** Smallest encoded size of one value of a type, to reject an array that cannot fit before reading it. */
const MIN_VALUE_BYTES: Partial<Record<GgufValueType, number>> = {
  [GgufValueType.UINT8]: 1,
  [GgufValueType.INT8]: 1,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT16]: 2,
  [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4,
  [GgufValueType.INT32]: 4,
  [GgufValueType.FLOAT32]: 4,
  [GgufValueType.UINT64]: 8,
  [GgufValueType.INT64]: 8,
  [GgufValueType.FLOAT64]: 8,
  [GgufValueType.STRING]: 8, // the u64 length
};

async function readValue(reader: BoundedFileReader, key: string, corrupt: CorruptFactory): Promise<GgufValue> {
  const type = await reader.u32(`type of "${key}"`);
  if (type !== GgufValueType.ARRAY) return readScalar(reader, type, key, corrupt);
  const itemType = await reader.u32(`item type of "${key}"`);
  const itemBytes = MIN_VALUE_BYTES[itemType as GgufValueType];
  if (itemBytes === undefined) throw corrupt(`array "${key}" has item type ${itemType}, which is not a GGUF scalar type`);
  const length = await reader.u64(`length of "${key}"`);
  if (length > BigInt(GGUF_READ_LIMITS.maxArrayLength)) {
    throw corrupt(`array "${key}" claims ${length} items, more than the limit of ${GGUF_READ_LIMITS.maxArrayLength}`);
  }
  const count = Number(length);
  if (count * itemBytes > reader.remaining) {
    throw new EndOfFileError(reader.offset + count * itemBytes, reader.fileSize, `array "${key}"`);
  }
  const items: GgufScalar[] = new Array<GgufScalar>(count);
  for (let i = 0; i < count; i++) items[i] = await readScalar(reader, itemType, key, corrupt);
  return items;
}

async function readScalar(
  reader: BoundedFileReader,
  type: number,
  key: string,
  corrupt: CorruptFactory,
): Promise<GgufScalar> {
  const what = `value of "${key}"`;
  switch (type as GgufValueType) {
    case GgufValueType.UINT8:
      return (await reader.take(1, what)).readUInt8(0);
    case GgufValueType.INT8:
      return (await reader.take(1, what)).readInt8(0);
    case GgufValueType.UINT16:
      return (await reader.take(2, what)).readUInt16LE(0);
    case GgufValueType.INT16:
      return (await reader.take(2, what)).readInt16LE(0);
    case GgufValueType.UINT32:
      return (await reader.take(4, what)).readUInt32LE(0);
    case GgufValueType.INT32:
      return (await reader.take(4, what)).readInt32LE(0);
    case GgufValueType.FLOAT32:
      return (await reader.take(4, what)).readFloatLE(0);
    case GgufValueType.FLOAT64:
      return (await reader.take(8, what)).readDoubleLE(0);
    case GgufValueType.UINT64:
      return (await reader.take(8, what)).readBigUInt64LE(0);
    case GgufValueType.INT64:
      return (await reader.take(8, what)).readBigInt64LE(0);
    case GgufValueType.BOOL:
      return (await reader.take(1, what)).readUInt8(0) !== 0;
    case GgufValueType.STRING:
      return readString(reader, what, corrupt);
    default:
      throw corrupt(`"${key}" has value type ${type}, which is not a GGUF value type`);
  }
}

function alignmentOf(kv: ReadonlyMap<string, GgufValue>, corrupt: CorruptFactory): number {
  const value = kv.get("general.alignment");
  if (value === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || (value & (value - 1)) !== 0) {
    throw corrupt(`general.alignment is ${String(value)}, not a power of two`);
  }
  return value;
}

async function readTensorInfo(
  reader: BoundedFileReader,
  index: number,
  path: string,
  corrupt: CorruptFactory,
): Promise<GgufTensorSummary> {
  const name = await readString(reader, `tensor ${index} name`, corrupt, GGUF_READ_LIMITS.maxTensorNameBytes);
  const dimCount = await reader.u32(`tensor "${name}" dimension count`);
  if (dimCount < 1 || dimCount > GGUF_READ_LIMITS.maxDims) {
    throw corrupt(`tensor "${name}" has ${dimCount} dimensions (1 to 4 allowed)`);
  }
  const dims: number[] = [];
  let elements = 1;
  for (let d = 0; d < dimCount; d++) {
    const dim = await reader.u64(`tensor "${name}" dimension ${d}`);
    elements *= Number(dim);
    if (dim > BigInt(Number.MAX_SAFE_INTEGER) || !Number.isSafeInteger(elements)) {
      throw corrupt(`tensor "${name}" has an impossible shape (dimension ${d} is ${dim})`);
    }
    dims.push(Number(dim));
  }
  const type = await reader.u32(`tensor "${name}" type`);
  const offset = await reader.u64(`tensor "${name}" offset`);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`tensor "${name}" has an impossible offset ${offset}`);
  let byteSize: number | undefined;
  try {
    byteSize = ggmlTensorByteSize(type, dims);
  } catch (error) {
    throw corrupt(`tensor "${name}": ${(error as Error).message}`);
  }
  if (byteSize === undefined) {
    throw new ModelFileError(
      "MODEL_UNSUPPORTED_TENSOR_TYPE",
      path,
      `Model file ${path} has tensor "${name}" of ggml type ${type} (${ggmlTypeName(type)}), which this app does not know: ` +
        `the file may need a newer version of the app, or it is damaged.`,
    );
  }
  return { name, dims, type, offset: Number(offset), byteSize };
}
