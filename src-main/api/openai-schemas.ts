import { z } from "zod";
import { JOB_LIMITS } from "../swarm/index.js";

/**
 * The OpenAI-compatible HTTP bodies: what clients send (validated, unknown fields ignored as OpenAI's
 * own server does) and what the gateway answers (one schema each; the types are inferred from them).
 */
export const OPENAI_LIMITS = {
  /** Largest request body; a prompt is at most JOB_LIMITS.maxPromptTokens tokens anyway. */
  maxBodyBytes: 1024 * 1024,
  maxMessages: 512,
  /** OpenAI's own limit, and the job protocol's. */
  maxStopSequences: JOB_LIMITS.maxStopSequences,
  maxStopChars: JOB_LIMITS.maxStopChars,
  maxAnswerTokens: JOB_LIMITS.maxAnswerTokens,
  /** OpenAI's default for /v1/completions; chat defaults to what the context has left. */
  defaultCompletionMaxTokens: 16,
} as const;

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

const stopSchema = z.union([
  z.string().max(OPENAI_LIMITS.maxStopChars),
  z.array(z.string().max(OPENAI_LIMITS.maxStopChars)).max(OPENAI_LIMITS.maxStopSequences),
]);

/** Parameters both endpoints share. Values the swarm cannot honour are refused, not ignored. */
const samplingFields = {
  model: z.string().min(1).max(256),
  max_tokens: nullish(z.number().int().min(1)),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  seed: nullish(z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)),
  stop: nullish(stopSchema),
  n: nullish(z.number().int()),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.object({ include_usage: nullish(z.boolean()) })),
  user: nullish(z.string().max(256)),
  presence_penalty: nullish(z.number().min(-2).max(2)),
  frequency_penalty: nullish(z.number().min(-2).max(2)),
  logit_bias: nullish(z.record(z.string(), z.number())),
};

const textPartSchema = z.object({ type: z.literal("text"), text: z.string() });
const contentPartSchema = z.union([textPartSchema, z.looseObject({ type: z.string() })]);

export const chatMessageSchema = z.object({
  // "developer" is OpenAI's newer name for "system"; tool and function messages need tool calling.
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string(), z.array(contentPartSchema).max(256)]).nullish(),
  name: nullish(z.string().max(256)),
  tool_calls: z.array(z.unknown()).nullish(),
});

export const chatCompletionRequestSchema = z.object({
  ...samplingFields,
  messages: z.array(chatMessageSchema).min(1).max(OPENAI_LIMITS.maxMessages),
  max_completion_tokens: nullish(z.number().int().min(1)),
  logprobs: nullish(z.boolean()),
  top_logprobs: nullish(z.number().int()),
  tools: z.array(z.unknown()).nullish(),
  functions: z.array(z.unknown()).nullish(),
  tool_choice: z.unknown().optional(),
  response_format: nullish(z.looseObject({ type: z.string() })),
});

const tokenArraySchema = z.array(z.number().int().min(0).max(0x7fffffff)).min(1).max(JOB_LIMITS.maxPromptTokens);

export const completionRequestSchema = z.object({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()), tokenArraySchema, z.array(tokenArraySchema)]),
  logprobs: nullish(z.number().int()),
  echo: nullish(z.boolean()),
  best_of: nullish(z.number().int()),
  suffix: nullish(z.string()),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type ChatMessageInput = z.infer<typeof chatMessageSchema>;

export const finishReasonSchema = z.enum(["stop", "length"]);

export const usageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});

/** Where the answer came from; extra fields are allowed in OpenAI bodies and clients keep them. */
export const swarmInfoSchema = z.object({
  model_sha256: z.string(),
  worker: z.string(),
  attempts: z.number().int().positive(),
});

export const chatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
      logprobs: z.null(),
      finish_reason: finishReasonSchema,
    }),
  ),
  usage: usageSchema,
  inferswarm: swarmInfoSchema,
});

export const chatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal("assistant").optional(), content: z.string().optional() }),
      logprobs: z.null(),
      finish_reason: finishReasonSchema.nullable(),
    }),
  ),
  usage: usageSchema.nullable().optional(),
});

export const completionSchema = z.object({
  id: z.string(),
  object: z.literal("text_completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(z.object({ index: z.number().int(), text: z.string(), logprobs: z.null(), finish_reason: finishReasonSchema.nullable() })),
  usage: usageSchema.nullable().optional(),
  inferswarm: swarmInfoSchema.optional(),
});

export const modelSchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number().int(),
  owned_by: z.string(),
  /** The model's content hash: its identity in the swarm (`model` may also be this hash). */
  sha256: z.string(),
  name: z.string(),
  quantization: z.string(),
  /** Tokens per request (prompt + answer) every advertising worker holds. */
  context_length: z.number().int(),
  /** Workers with a fresh advert for it, and how many of them take jobs now. */
  workers: z.number().int(),
  available_workers: z.number().int(),
});

export const modelListSchema = z.object({ object: z.literal("list"), data: z.array(modelSchema) });

export const errorBodySchema = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
});

export type FinishReason = z.infer<typeof finishReasonSchema>;
export type Usage = z.infer<typeof usageSchema>;
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;
export type Completion = z.infer<typeof completionSchema>;
export type ModelObject = z.infer<typeof modelSchema>;
export type ModelList = z.infer<typeof modelListSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
