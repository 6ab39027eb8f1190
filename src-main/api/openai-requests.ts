import type { z } from "zod";
import type { ChatMessage } from "../engine/index.js";
import { JOB_LIMITS, type Sampling } from "../swarm/index.js";
import { OpenAiHttpError } from "./openai-errors.js";
import type { ResolvedModel } from "./openai-models.js";
import { OPENAI_LIMITS, type ChatCompletionRequest, type ChatMessageInput, type CompletionRequest } from "./openai-schemas.js";

/** A request turned into what the scheduler runs: tokens, budget and sampling as the job protocol has them. */
export interface PreparedJob {
  promptTokens: number[];
  maxTokens: number;
  sampling: Sampling;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

/** Validates a body against its one schema; the first problem's path is OpenAI's `param`. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5);
  const message = issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
  const param = issues[0]?.path.join(".");
  throw new OpenAiHttpError("API_BAD_REQUEST", `The request body is invalid (${message}).`, { ...(param && { param }) });
}

const unsupported = (param: string, why: string) => new OpenAiHttpError("API_UNSUPPORTED_PARAMETER", `${param} is not supported by the swarm: ${why}.`, { param });

type CommonFields = Pick<ChatCompletionRequest, "n" | "presence_penalty" | "frequency_penalty" | "logit_bias" | "temperature" | "top_p" | "seed" | "stop" | "stream" | "stream_options">;

function checkCommon(body: CommonFields): void {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw new OpenAiHttpError("API_BAD_REQUEST", `n must be 1 (one answer per request); got ${body.n}.`, { param: "n" });
  if (body.presence_penalty) throw unsupported("presence_penalty", "workers sample with temperature, top_p and seed only");
  if (body.frequency_penalty) throw unsupported("frequency_penalty", "workers sample with temperature, top_p and seed only");
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0) throw unsupported("logit_bias", "workers sample with temperature, top_p and seed only");
}

/** OpenAI's sampling defaults (temperature 1, top_p 1) mapped onto the job protocol's. */
function samplingOf(body: CommonFields): Sampling {
  let temperature = body.temperature ?? 1;
  // top_p 0 keeps only the most likely token: greedy.
  if (body.top_p === 0) temperature = 0;
  if (temperature === 0) return { temperature: 0 };
  const sampling: Sampling = { temperature };
  if (body.top_p !== undefined && body.top_p !== null && body.top_p < 1) sampling.topP = body.top_p;
  // OpenAI seeds are 64-bit; the job protocol's are 32-bit: fold them, keeping equal seeds equal.
  if (body.seed !== undefined && body.seed !== null) sampling.seed = ((body.seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
  return sampling;
}

function stopOf(body: CommonFields): string[] {
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  return [...new Set(stop.filter((s) => s.length > 0))];
}

/** The answer budget, and 413 when prompt plus answer cannot fit the context every worker of the model holds. */
function budgetOf(promptTokens: number, requested: number | undefined, model: ResolvedModel): number {
  const where = model.contextSource === "adverts" ? "the smallest context among the workers that advertise it" : "its GGUF's trained context (no worker advertises it now)";
  if (promptTokens > JOB_LIMITS.maxPromptTokens || promptTokens >= model.contextSize) {
    throw new OpenAiHttpError(
      "API_CONTEXT_LENGTH_EXCEEDED",
      `The prompt is ${promptTokens} tokens; ${model.id} holds ${model.contextSize} tokens (${where}). Shorten the prompt.`,
      { param: "messages" },
    );
  }
  const maxTokens = requested ?? Math.min(model.contextSize - promptTokens, OPENAI_LIMITS.maxAnswerTokens);
  if (promptTokens + maxTokens > model.contextSize) {
    throw new OpenAiHttpError(
      "API_CONTEXT_LENGTH_EXCEEDED",
      `The prompt (${promptTokens} tokens) plus max_tokens (${maxTokens}) is ${promptTokens + maxTokens} tokens; ${model.id} holds ${model.contextSize} (${where}). Lower max_tokens or shorten the prompt.`,
      { param: "max_tokens" },
    );
  }
  if (maxTokens > OPENAI_LIMITS.maxAnswerTokens) {
    throw new OpenAiHttpError("API_BAD_REQUEST", `max_tokens is at most ${OPENAI_LIMITS.maxAnswerTokens} per request; got ${maxTokens}.`, { param: "max_tokens" });
  }
  return maxTokens;
}

function textOf(message: ChatMessageInput, index: number): string {
  if (message.tool_calls && message.tool_calls.length > 0) throw unsupported(`messages.${index}.tool_calls`, "tool calling is not available");
  const content = message.content;
  if (content === undefined || content === null) {
    throw new OpenAiHttpError("API_BAD_REQUEST", `messages.${index}.content is missing; give the message's text.`, { param: `messages.${index}.content` });
  }
  if (typeof content === "string") return content;
  return content
    .map((part, partIndex) => {
      if (part.type !== "text" || typeof part.text !== "string") throw unsupported(`messages.${index}.content.${partIndex}`, `only text parts can be sent (got "${part.type}")`);
      return part.text;
    })
    .join("");
}

export function prepareChatJob(body: ChatCompletionRequest, model: ResolvedModel): PreparedJob {
  checkCommon(body);
  if (body.tools && body.tools.length > 0) throw unsupported("tools", "tool calling is not available");
  if (body.functions && body.functions.length > 0) throw unsupported("functions", "function calling is not available");
  if (body.logprobs || body.top_logprobs) throw unsupported("logprobs", "workers do not return log probabilities");
  if (body.response_format && body.response_format.type !== "text") throw unsupported("response_format", "only plain text answers are available");
  if (model.tokenizer.chatTemplate === undefined) {
    throw new OpenAiHttpError("API_BAD_REQUEST", `${model.id} has no chat template in its GGUF, so chats cannot be rendered the way it was trained; use /v1/completions with a prompt.`, { param: "model" });
  }
  const messages: ChatMessage[] = body.messages.map((message, index) => ({ role: message.role === "developer" ? "system" : message.role, content: textOf(message, index) }));
  let promptTokens: number[];
  try {
    promptTokens = model.tokenizer.renderChat(messages).tokens;
  } catch (error) {
    throw new OpenAiHttpError("API_BAD_REQUEST", (error as Error).message, { param: "messages", cause: error });
  }
  return {
    promptTokens,
    maxTokens: budgetOf(promptTokens.length, body.max_completion_tokens ?? body.max_tokens ?? undefined, model),
    sampling: samplingOf(body),
    stop: stopOf(body),
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
  };
}

function completionPromptTokens(prompt: CompletionRequest["prompt"], model: ResolvedModel): number[] {
  // One prompt per request (n = 1): a list may hold exactly one string or one token array.
  const one = Array.isArray(prompt) && prompt.length > 0 && (typeof prompt[0] === "string" || Array.isArray(prompt[0])) ? prompt : [prompt];
  if (one.length !== 1) throw new OpenAiHttpError("API_BAD_REQUEST", `Send one prompt per request; got ${one.length}.`, { param: "prompt" });
  const single = one[0] as string | number[];
  if (typeof single === "string") return model.tokenizer.tokenizePrompt(single);
  // Token prompts are taken as they are (no BOS added): the client chose them.
  const vocabulary = model.tokenizer.info.vocabularySize;
  const bad = single.find((token) => token >= vocabulary);
  if (bad !== undefined) throw new OpenAiHttpError("API_BAD_REQUEST", `Prompt token ${bad} is outside ${model.id}'s vocabulary of ${vocabulary}.`, { param: "prompt" });
  return [...single];
}

export function prepareCompletionJob(body: CompletionRequest, model: ResolvedModel): PreparedJob {
  checkCommon(body);
  if (body.echo) throw unsupported("echo", "the answer does not repeat the prompt");
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) throw unsupported("best_of", "one answer is generated per request");
  if (body.logprobs) throw unsupported("logprobs", "workers do not return log probabilities");
  if (body.suffix) throw unsupported("suffix", "insertion is not available");
  const promptTokens = completionPromptTokens(body.prompt, model);
  if (promptTokens.length === 0) throw new OpenAiHttpError("API_BAD_REQUEST", "The prompt is empty.", { param: "prompt" });
  return {
    promptTokens,
    maxTokens: budgetOf(promptTokens.length, body.max_tokens ?? OPENAI_LIMITS.defaultCompletionMaxTokens, model),
    sampling: samplingOf(body),
    stop: stopOf(body),
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
  };
}
