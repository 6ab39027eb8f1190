import { GgufValueType } from "../gguf/gguf-types.js";
import { ggufValue } from "../gguf/gguf-values.js";
import type { GgufTypedValue } from "../gguf/gguf-values.js";
import { headDim } from "./presets.js";
import type { ModelShape } from "./presets.js";
import { SYNTHETIC_GENERATOR_VERSION } from "./synthetic-spec.js";
import type { NormalizedSyntheticModelSpec, SyntheticQuantization } from "./synthetic-spec.js";
import { BOS_TOKEN_ID, EOS_TOKEN_ID, UNKNOWN_TOKEN_ID } from "./vocabulary.js";
import type { Vocabulary } from "./vocabulary.js";

/** llama.cpp's LLAMA_FTYPE values ("mostly X"). */
const FILE_TYPES: Readonly<Record<SyntheticQuantization, number>> = { F32: 0, F16: 1, Q8_0: 7 };

/**
 * ChatML, as many instruct models ship it: the OpenAI gateway renders chats with a model's own template, so
 * test models carry one too. The markers are plain text in this vocabulary (no special tokens).
 */
export const SYNTHETIC_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function syntheticModelMetadata(
  spec: NormalizedSyntheticModelSpec,
  shape: ModelShape,
  vocabulary: Vocabulary,
): Array<readonly [string, GgufTypedValue]> {
  const { u32, f32, bool, string, array } = ggufValue;
  const peaky = spec.peaky ? ", peaky output" : "";
  return [
    ["general.architecture", string("llama")],
    ["general.name", string(spec.name)],
    [
      "general.description",
      string(
        `Synthetic InferSwarm test model with random weights (not a language model): preset ${spec.preset}, ` +
          `seed ${spec.seed}, ${spec.quantization}${peaky}, generator v${SYNTHETIC_GENERATOR_VERSION}.`,
      ),
    ],
    ["general.file_type", u32(FILE_TYPES[spec.quantization])],
    ...(spec.quantization === "Q8_0" ? [["general.quantization_version", u32(2)] as const] : []),
    ["general.alignment", u32(32)],
    ["inferswarm.synthetic.preset", string(spec.preset)],
    ["inferswarm.synthetic.seed", u32(spec.seed)],
    ["inferswarm.synthetic.peaky", bool(spec.peaky)],
    ["inferswarm.synthetic.generator_version", u32(SYNTHETIC_GENERATOR_VERSION)],
    ["llama.vocab_size", u32(shape.vocabSize)],
    ["llama.context_length", u32(shape.contextLength)],
    ["llama.embedding_length", u32(shape.embeddingLength)],
    ["llama.block_count", u32(shape.blockCount)],
    ["llama.feed_forward_length", u32(shape.feedForwardLength)],
    ["llama.attention.head_count", u32(shape.headCount)],
    ["llama.attention.head_count_kv", u32(shape.headCountKv)],
    ["llama.rope.dimension_count", u32(headDim(shape))],
    ["llama.rope.freq_base", f32(10000)],
    ["llama.attention.layer_norm_rms_epsilon", f32(1e-5)],
    ["tokenizer.ggml.model", string("llama")],
    ["tokenizer.ggml.tokens", array(GgufValueType.STRING, vocabulary.tokens)],
    ["tokenizer.ggml.scores", array(GgufValueType.FLOAT32, vocabulary.scores)],
    ["tokenizer.ggml.token_type", array(GgufValueType.INT32, vocabulary.types)],
    ["tokenizer.ggml.unknown_token_id", u32(UNKNOWN_TOKEN_ID)],
    ["tokenizer.ggml.bos_token_id", u32(BOS_TOKEN_ID)],
    ["tokenizer.ggml.eos_token_id", u32(EOS_TOKEN_ID)],
    ["tokenizer.ggml.add_bos_token", bool(true)],
    ["tokenizer.ggml.add_eos_token", bool(false)],
    ["tokenizer.chat_template", string(SYNTHETIC_CHAT_TEMPLATE)],
  ];
}
