import { createHash } from "node:crypto";
import { GgmlType } from "../gguf/gguf-types.js";
import { writeGgufFile } from "../gguf/gguf-writer.js";
import type { GgufTensorSpec } from "../gguf/gguf-writer.js";
import { encodeFloat16 } from "../gguf/float16.js";
import { encodeFloat32, quantizeQ8_0 } from "../gguf/tensor-encoding.js";
import { countParameters, modelTensors, validateShape } from "./presets.js";
import type { ShapedTensor } from "./presets.js";
import { Xoshiro128, hashLabel } from "./prng.js";
import { syntheticModelMetadata } from "./synthetic-metadata.js";
import { normalizeSyntheticModelSpec, shapeOf } from "./synthetic-spec.js";
import type { NormalizedSyntheticModelSpec, SyntheticQuantization, SyntheticModelSpec } from "./synthetic-spec.js";
import { buildVocabulary } from "./vocabulary.js";
import type { Vocabulary } from "./vocabulary.js";

/** Output-matrix gain for "peaky" models: logits far apart enough that greedy argmax is stable. */
const PEAKY_OUTPUT_GAIN = 40;

const WEIGHT_TYPES: Readonly<Record<SyntheticQuantization, GgmlType>> = {
  F32: GgmlType.F32,
  F16: GgmlType.F16,
  Q8_0: GgmlType.Q8_0,
};

export interface SyntheticModelFile {
  readonly path: string;
  readonly spec: NormalizedSyntheticModelSpec;
  /** sha256 of the file's bytes, hex. */
  readonly sha256: string;
  readonly fileSize: number;
  readonly parameterCount: number;
}

/**
 * Writes a loadable LLaMA GGUF with seeded random weights. The same spec always gives the same bytes;
 * tensors are generated and written one at a time.
 */
export async function writeSyntheticModel(spec: SyntheticModelSpec, outPath: string): Promise<SyntheticModelFile> {
  const normalized = normalizeSyntheticModelSpec(spec);
  const shape = shapeOf(normalized);
  validateShape(shape);
  const vocabulary = buildVocabulary(shape.vocabSize);
  const shaped = modelTensors(shape);
  const weightType = WEIGHT_TYPES[normalized.quantization];
  const tensors: GgufTensorSpec[] = shaped.map((t) => ({
    name: t.name,
    dims: t.dims,
    type: t.dims.length === 1 ? GgmlType.F32 : weightType,
  }));
  const hash = createHash("sha256");
  const result = await writeGgufFile(outPath, {
    kv: syntheticModelMetadata(normalized, shape, vocabulary),
    tensors,
    tensorData: (tensor, index) => encode(tensorValues(shaped[index]!, normalized, vocabulary), tensor.type),
    onChunk: (chunk) => hash.update(chunk),
  });
  return {
    path: outPath,
    spec: normalized,
    sha256: hash.digest("hex"),
    fileSize: result.fileSize,
    parameterCount: countParameters(shape),
  };
}

function tensorValues(tensor: ShapedTensor, spec: NormalizedSyntheticModelSpec, vocabulary: Vocabulary): Float32Array {
  const values = new Float32Array(tensor.dims.reduce((a, b) => a * b, 1));
  const { fanIn } = tensor;
  if (fanIn === undefined) return values.fill(1); // RMS-norm gains
  // Each tensor has its own stream, so its weights do not depend on the tensors before it.
  const random = new Xoshiro128((spec.seed ^ hashLabel(tensor.name)) >>> 0);
  // Embeddings at unit scale; matrices at 1/sqrt(fan_in) so activations keep roughly unit scale.
  const std = tensor.name === "token_embd.weight" ? 1 : 1 / Math.sqrt(fanIn);
  random.fillNormal(values, std);
  if (tensor.name === "output.weight") {
    if (spec.peaky) for (let i = 0; i < values.length; i++) values[i]! *= PEAKY_OUTPUT_GAIN;
    // Zero logits for everything but whole words and punctuation: generation reads as words and never
    // stops early on </s> (a zero logit never wins against peaky ones).
    vocabulary.emittable.forEach((emittable, token) => {
      if (!emittable) values.fill(0, token * fanIn, (token + 1) * fanIn);
    });
  }
  return values;
}

function encode(values: Float32Array, type: GgmlType): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return encodeFloat32(values);
    case GgmlType.F16:
      return encodeFloat16(values);
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    default:
      throw new Error(`synthetic models do not use ggml type ${type}`);
  }
}
