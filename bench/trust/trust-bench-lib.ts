/**
 * Shared by bench/trust's scripts: honest answers generated in child processes (other threads, batch
 * shapes, resumption), cheating answers made in-process, and the validator's scoring and judgement.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import type { LoadedModel } from "../../src-main/engine/index.js";
import { buildVocabulary } from "../../src-main/models/index.js";
import { judgeAnswer, scoreAnswer, type AnswerClaim, type AnswerScores, type ClaimedFinish, type JudgedSampling, type Judgement, type Tolerance } from "../../src-main/trust/index.js";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface Answer {
  prompt: number;
  promptTokens: number[];
  tokens: number[];
  finishReason: ClaimedFinish;
  maxTokens: number;
  sampling: JudgedSampling;
  generationMs: number;
}

export type GenerationMode = "alone" | "concurrent" | "resumed" | "sampled";

export interface GeneratorConfig {
  modelPath: string;
  threads: number;
  mode: GenerationMode;
  promptSeed: number;
  prompts: number;
  maxTokens: number;
}

/** Runs honest generation in a child process (its own llama.cpp runtime, threads and batch shapes). */
export async function generateInChild(script: string, config: GeneratorConfig): Promise<Answer[]> {
  const child = spawn(process.execPath, ["--import", "tsx", script, "--role", "generate", "--config", JSON.stringify(config)], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_LLAMA_CPP_GPU: "false" },
  });
  const errors: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => errors.push(chunk.toString()));
  const answers: Answer[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith("{")) answers.push(JSON.parse(line) as Answer);
  }
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)));
  if (code !== 0) throw new Error(`generator child exited with ${code}: ${errors.join("").slice(-2000)}`);
  return answers;
}

/** The child's side: generate every prompt in the given mode and print one JSON line per answer. */
export async function runGenerator(model: LoadedModel, config: GeneratorConfig, prompts: string[]): Promise<void> {
  const greedy: JudgedSampling = { temperature: 0 };
  const one = async (index: number, options: { resume?: number; sampled?: boolean } = {}): Promise<Answer> => {
    const promptTokens = model.tokenizePrompt(prompts[index]!);
    const sampling = options.sampled ? { temperature: 0.8, topK: 40, seed: 1000 + index } : { temperature: 0 };
    const started = performance.now();
    let resumeTokens: number[] = [];
    if (options.resume !== undefined) {
      const first = await model.generateText({ prompt: { tokens: promptTokens }, maxTokens: options.resume, sampling });
      resumeTokens = first.tokens;
    }
    const result = await model.generateText({ prompt: { tokens: promptTokens }, resumeTokens, maxTokens: config.maxTokens, sampling });
    return {
      prompt: index,
      promptTokens,
      tokens: result.tokens,
      finishReason: result.finishReason,
      maxTokens: config.maxTokens,
      sampling: options.sampled ? { temperature: 0.8, topK: 40 } : greedy,
      generationMs: performance.now() - started,
    };
  };
  const print = (answer: Answer) => process.stdout.write(`${JSON.stringify(answer)}\n`);
  for (let i = 0; i < prompts.length; i++) {
    switch (config.mode) {
      case "alone":
        print(await one(i));
        break;
      case "sampled":
        print(await one(i, { sampled: true }));
        break;
      case "resumed":
        // Resume at a varying point, so the resumed prefix is evaluated as batches of different sizes.
        print(await one(i, { resume: 1 + (i % (config.maxTokens - 1)) }));
        break;
      case "concurrent": {
        // Two sequences in one context decoding at once: batch shapes depend on timing.
        if (i + 1 >= prompts.length) print(await one(i));
        else {
          for (const answer of await Promise.all([one(i), one(i + 1)])) print(answer);
          i++;
        }
        break;
      }
    }
  }
}

export interface Judged {
  answer: Answer;
  scores: AnswerScores;
  claim: AnswerClaim;
  judgement: Judgement;
  scoringMs: number;
}

export async function validate(validator: LoadedModel, answer: Answer, tolerance: Tolerance, claim?: Partial<{ finishReason: ClaimedFinish; promptTokens: number[] }>): Promise<Judged> {
  const finishReason = claim?.finishReason ?? answer.finishReason;
  const promptTokens = claim?.promptTokens ?? answer.promptTokens;
  const started = performance.now();
  const scores = await scoreAnswer(validator, { promptTokens, claimedTokens: answer.tokens, finishReason, sampling: answer.sampling });
  const scoringMs = performance.now() - started;
  const claimed: AnswerClaim = { finishReason, tokenCount: answer.tokens.length, maxTokens: answer.maxTokens };
  return { answer, scores, claim: claimed, judgement: judgeAnswer(scores, claimed, answer.sampling, tolerance), scoringMs };
}

/** Tokens a word-salad cheater would send: whole words the synthetic vocabulary lets models emit. */
export function emittableTokens(vocabSize: number): number[] {
  const vocabulary = buildVocabulary(vocabSize);
  return vocabulary.emittable.flatMap((ok, token) => (ok ? [token] : []));
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
