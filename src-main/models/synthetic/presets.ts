/** LLaMA-architecture shapes for synthetic test models. All widths are multiples of 32 so Q8_0 rows fit. */
export interface ModelShape {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  readonly headCountKv: number;
}

export const PRESET_NAMES = ["tiny", "small", "medium", "large"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const DEFAULT_VOCAB_SIZE = 2048;

export const PRESETS: Readonly<Record<PresetName, ModelShape>> = {
  // ~0.9M parameters
  tiny: { vocabSize: DEFAULT_VOCAB_SIZE, contextLength: 1024, embeddingLength: 128, blockCount: 2, feedForwardLength: 384, headCount: 4, headCountKv: 2 },
  // ~5.8M
  small: { vocabSize: DEFAULT_VOCAB_SIZE, contextLength: 2048, embeddingLength: 256, blockCount: 6, feedForwardLength: 768, headCount: 8, headCountKv: 4 },
  // ~21M
  medium: { vocabSize: DEFAULT_VOCAB_SIZE, contextLength: 2048, embeddingLength: 512, blockCount: 6, feedForwardLength: 1536, headCount: 8, headCountKv: 4 },
  // ~97M
  large: { vocabSize: DEFAULT_VOCAB_SIZE, contextLength: 2048, embeddingLength: 768, blockCount: 15, feedForwardLength: 2048, headCount: 12, headCountKv: 4 },
};

export function headDim(shape: ModelShape): number {
  return shape.embeddingLength / shape.headCount;
}

export interface ShapedTensor {
  readonly name: string;
  /** ggml order: input (row) dimension first. */
  readonly dims: readonly number[];
  /** Input width, for initialisation scale; undefined for norm vectors. */
  readonly fanIn: number | undefined;
}

/** The tensors of a LLaMA model with an untied output matrix, in the order they are written. */
export function modelTensors(shape: ModelShape): ShapedTensor[] {
  const embd = shape.embeddingLength;
  const hd = headDim(shape);
  const q = shape.headCount * hd;
  const kv = shape.headCountKv * hd;
  const ff = shape.feedForwardLength;
  const tensors: ShapedTensor[] = [{ name: "token_embd.weight", dims: [embd, shape.vocabSize], fanIn: embd }];
  for (let layer = 0; layer < shape.blockCount; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      { name: `${blk}.attn_norm.weight`, dims: [embd], fanIn: undefined },
      { name: `${blk}.attn_q.weight`, dims: [embd, q], fanIn: embd },
      { name: `${blk}.attn_k.weight`, dims: [embd, kv], fanIn: embd },
      { name: `${blk}.attn_v.weight`, dims: [embd, kv], fanIn: embd },
      { name: `${blk}.attn_output.weight`, dims: [q, embd], fanIn: q },
      { name: `${blk}.ffn_norm.weight`, dims: [embd], fanIn: undefined },
      { name: `${blk}.ffn_gate.weight`, dims: [embd, ff], fanIn: embd },
      { name: `${blk}.ffn_up.weight`, dims: [embd, ff], fanIn: embd },
      { name: `${blk}.ffn_down.weight`, dims: [ff, embd], fanIn: ff },
    );
  }
  tensors.push(
    { name: "output_norm.weight", dims: [embd], fanIn: undefined },
    { name: "output.weight", dims: [embd, shape.vocabSize], fanIn: embd },
  );
  return tensors;
}

/** Exact parameter count: the sum of every tensor's element count. */
export function countParameters(shape: ModelShape): number {
  return modelTensors(shape).reduce((sum, tensor) => sum + tensor.dims.reduce((a, b) => a * b, 1), 0);
}

/** Throws when a shape would not load or would not quantize to Q8_0. */
export function validateShape(shape: ModelShape): void {
  const problems: string[] = [];
  if (shape.embeddingLength % shape.headCount !== 0) problems.push("embedding_length must divide by head_count");
  if (shape.headCount % shape.headCountKv !== 0) problems.push("head_count must divide by head_count_kv");
  if (headDim(shape) % 2 !== 0) problems.push("head_dim must be even for RoPE");
  if (shape.embeddingLength % 32 !== 0 || shape.feedForwardLength % 32 !== 0) {
    problems.push("embedding_length and feed_forward_length must be multiples of 32 (Q8_0 blocks)");
  }
  if (problems.length > 0) throw new RangeError(`invalid model shape: ${problems.join("; ")}`);
}
