import os from "node:os";
import { z } from "zod";
import { type Clock, createSilentLogger, type Logger, systemClock } from "../common/index.js";
import type { GenerationResult } from "../engine/index.js";
import { hashModelFile } from "../models/index.js";
import { errorMessage, HardwareError } from "./hardware-errors.js";
import type { JsonStore } from "./json-file-store.js";

export const CALIBRATION_STORE_KEY = "node-calibration";

export const machineFingerprintSchema = z.object({
  cpuModel: z.string(),
  cores: z.number().int().positive(),
  /** llama.cpp's backend: a GPU changes the figure completely. */
  gpuBackend: z.union([z.string(), z.literal(false)]),
});
export type MachineFingerprint = z.infer<typeof machineFingerprintSchema>;

export const calibrationRunSchema = z.object({
  promptTokens: z.number().int(),
  generatedTokens: z.number().int(),
  /** Tokens after the first, over the time after the first: decoding alone. */
  decodeTokensPerSecond: z.number().positive(),
  /** Prompt tokens over the time to the first token (prompt evaluation plus one sampling step). */
  prefillTokensPerSecond: z.number().positive().nullable(),
  durationMs: z.number(),
});
export type CalibrationRun = z.infer<typeof calibrationRunSchema>;

export const nodeCalibrationSchema = z.object({
  version: z.literal(1),
  modelSha256: z.string().regex(/^[0-9a-f]{64}$/),
  modelName: z.string(),
  threads: z.number().int().positive(),
  /** The median over runs: the node's advertised capacity on the reference model. */
  decodeTokensPerSecond: z.number().positive(),
  decodeTokensPerSecondMin: z.number().positive(),
  decodeTokensPerSecondMax: z.number().positive(),
  prefillTokensPerSecond: z.number().positive().nullable(),
  runs: z.array(calibrationRunSchema).min(1),
  /** Epoch milliseconds. */
  measuredAt: z.number(),
  machine: machineFingerprintSchema,
});
export type NodeCalibration = z.infer<typeof nodeCalibrationSchema>;

/** The part of the engine the benchmark uses; the real `Engine` from ../engine fits it. */
export interface CalibrationEngine {
  loadModel(path: string): Promise<CalibrationModel>;
  describe(): { gpu: string | false };
}

export interface CalibrationModel {
  readonly threads: number;
  readonly info: { readonly sha256: string; readonly name: string };
  generateText(request: { prompt: string; maxTokens: number; sampling?: { temperature?: number } }): Promise<
    Pick<GenerationResult, "promptTokenCount" | "generatedTokenCount" | "timeToFirstTokenMs" | "durationMs">
  >;
  close(): Promise<void>;
}

export interface NodeCalibrationOptions {
  engine: CalibrationEngine;
  referenceModelPath: string;
  store: JsonStore;
  clock?: Clock;
  /** Measured runs; the median is reported, with min and max so repeatability shows. */
  runs?: number;
  /** Unreported runs first, so caches and the allocator are warm. */
  warmupRuns?: number;
  maxTokens?: number;
  prompt?: string;
  /** Defaults to this machine: CPU model, the cores this process may use, and the engine's GPU backend. */
  machine?: MachineFingerprint;
  logger?: Logger;
}

const DEFAULT_PROMPT =
  "The swarm measures how fast this node can answer. Each worker reads the same prompt, decodes the same greedy answer and reports how many tokens per second it sustained, so that requesters can compare nodes fairly.";

export function describeThisMachine(engine: Pick<CalibrationEngine, "describe">): MachineFingerprint {
  return { cpuModel: os.cpus()[0]?.model.trim() || "unknown", cores: os.availableParallelism(), gpuBackend: engine.describe().gpu };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function measureRun(result: Awaited<ReturnType<CalibrationModel["generateText"]>>): CalibrationRun {
  const firstTokenMs = result.timeToFirstTokenMs;
  const decodeTokens = result.generatedTokenCount - 1;
  const decodeMs = firstTokenMs === undefined ? 0 : result.durationMs - firstTokenMs;
  if (firstTokenMs === undefined || decodeTokens < 1 || decodeMs <= 0) {
    throw new HardwareError(
      "HARDWARE_CALIBRATION_FAILED",
      `The reference model produced ${result.generatedTokenCount} token(s); calibration needs at least 2. Use a reference model and prompt that generate a longer greedy answer.`,
    );
  }
  return {
    promptTokens: result.promptTokenCount,
    generatedTokens: result.generatedTokenCount,
    decodeTokensPerSecond: (decodeTokens * 1000) / decodeMs,
    prefillTokensPerSecond: firstTokenMs > 0 ? (result.promptTokenCount * 1000) / firstTokenMs : null,
    durationMs: result.durationMs,
  };
}

/**
 * Measures greedy decode speed on the reference model (loaded through the engine, which also measures
 * the best thread count), stores the result and returns it. This figure is what the node advertises.
 */
export async function runNodeCalibration(options: NodeCalibrationOptions): Promise<NodeCalibration> {
  const runs = options.runs ?? 3;
  const warmupRuns = options.warmupRuns ?? 1;
  const maxTokens = options.maxTokens ?? 64;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createSilentLogger();
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive integer, got ${runs}.`);
  const machine = options.machine ?? describeThisMachine(options.engine);

  const model = await options.engine.loadModel(options.referenceModelPath);
  try {
    const request = { prompt: options.prompt ?? DEFAULT_PROMPT, maxTokens, sampling: { temperature: 0 } };
    for (let i = 0; i < warmupRuns; i++) await model.generateText(request);
    const measured: CalibrationRun[] = [];
    for (let i = 0; i < runs; i++) measured.push(measureRun(await model.generateText(request)));

    const decode = measured.map((run) => run.decodeTokensPerSecond);
    const prefill = measured.map((run) => run.prefillTokensPerSecond).filter((value): value is number => value !== null);
    const calibration = nodeCalibrationSchema.parse({
      version: 1,
      modelSha256: model.info.sha256,
      modelName: model.info.name,
      threads: model.threads,
      decodeTokensPerSecond: median(decode),
      decodeTokensPerSecondMin: Math.min(...decode),
      decodeTokensPerSecondMax: Math.max(...decode),
      prefillTokensPerSecond: prefill.length > 0 ? median(prefill) : null,
      runs: measured,
      measuredAt: clock.now(),
      machine,
    } satisfies NodeCalibration);
    await options.store.write(CALIBRATION_STORE_KEY, calibration);
    logger.info(
      { model: calibration.modelName, threads: calibration.threads, tokensPerSecond: calibration.decodeTokensPerSecond, min: calibration.decodeTokensPerSecondMin, max: calibration.decodeTokensPerSecondMax },
      "node calibrated",
    );
    return calibration;
  } finally {
    await model.close();
  }
}

/**
 * The stored calibration if it was measured on this model (by content hash) and this machine; otherwise
 * undefined, meaning: calibrate again. A missing, corrupt or outdated file is treated the same way.
 */
export async function loadCalibration(options: { store: JsonStore; modelSha256: string; machine: MachineFingerprint; logger?: Logger }): Promise<NodeCalibration | undefined> {
  let stored: unknown;
  try {
    stored = await options.store.read(CALIBRATION_STORE_KEY);
  } catch (error) {
    options.logger?.warn({ error: errorMessage(error) }, "stored calibration unreadable; recalibrating");
    return undefined;
  }
  const parsed = nodeCalibrationSchema.safeParse(stored);
  if (!parsed.success) return undefined;
  const calibration = parsed.data;
  const sameMachine =
    calibration.machine.cpuModel === options.machine.cpuModel &&
    calibration.machine.cores === options.machine.cores &&
    calibration.machine.gpuBackend === options.machine.gpuBackend;
  return calibration.modelSha256 === options.modelSha256 && sameMachine ? calibration : undefined;
}

/**
 * The stored calibration when it still applies, else a fresh one. The reference model's hash decides;
 * pass it when already known (hashing a multi-GB model again costs seconds at start-up).
 */
export async function ensureNodeCalibration(options: NodeCalibrationOptions & { referenceModelSha256?: string }): Promise<NodeCalibration> {
  const machine = options.machine ?? describeThisMachine(options.engine);
  const modelSha256 = options.referenceModelSha256 ?? (await hashModelFile(options.referenceModelPath));
  const stored = await loadCalibration({ store: options.store, modelSha256, machine, logger: options.logger });
  return stored ?? runNodeCalibration({ ...options, machine });
}
