import { stat } from "node:fs/promises";
import { hashModelFile, inspectGgufFile, type GgufFileSummary } from "../models/index.js";

/** What the rest of the core needs to know about a model file. */
export interface ModelInfo {
  path: string;
  name: string;
  architecture: string;
  parameterCount: number;
  /** llama.cpp's file type name, e.g. "F32", "F16", "Q8_0", "Q4_K_M". */
  quantization: string;
  /** The context length the model was trained with. */
  contextLength: number;
  embeddingLength: number;
  layerCount: number;
  vocabularySize: number;
  fileSizeBytes: number;
  /** sha256 of the file's bytes: the model's identity across the swarm. */
  sha256: string;
}

// llama.cpp's `enum llama_ftype` (general.file_type).
const FILE_TYPE_NAMES: Record<number, string> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M",
  13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS",
  24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 28: "IQ4_XS", 32: "BF16",
};

// Hashing a 400 MB file takes about a second; a model reloaded from an unchanged file should not pay it.
const hashCache = new Map<string, { key: string; sha256: string }>();

async function cachedHash(path: string): Promise<string> {
  const { size, mtimeMs, ino } = await stat(path);
  const key = `${size}:${mtimeMs}:${ino}`;
  const cached = hashCache.get(path);
  if (cached?.key === key) return cached.sha256;
  const sha256 = await hashModelFile(path);
  hashCache.set(path, { key, sha256 });
  return sha256;
}

/** Checks the file (bad files throw ModelFileError with a clear code) and describes it. */
export async function describeModelFile(path: string): Promise<ModelInfo> {
  const summary = await inspectGgufFile(path);
  const architecture = stringKv(summary, "general.architecture") ?? "unknown";
  const fileType = numberKv(summary, "general.file_type");
  const tokens = summary.kv.get("tokenizer.ggml.tokens");
  return {
    path,
    name: stringKv(summary, "general.name") ?? path.split("/").at(-1) ?? path,
    architecture,
    parameterCount: summary.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0),
    quantization: fileType === undefined ? "unknown" : (FILE_TYPE_NAMES[fileType] ?? `file_type ${fileType}`),
    contextLength: numberKv(summary, `${architecture}.context_length`) ?? 0,
    embeddingLength: numberKv(summary, `${architecture}.embedding_length`) ?? 0,
    layerCount: numberKv(summary, `${architecture}.block_count`) ?? 0,
    vocabularySize: numberKv(summary, `${architecture}.vocab_size`) ?? (Array.isArray(tokens) ? tokens.length : 0),
    fileSizeBytes: summary.fileSize,
    sha256: await cachedHash(path),
  };
}

function stringKv(summary: GgufFileSummary, key: string): string | undefined {
  const value = summary.kv.get(key);
  return typeof value === "string" ? value : undefined;
}

function numberKv(summary: GgufFileSummary, key: string): number | undefined {
  const value = summary.kv.get(key);
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}
