import { type Clock, createSilentLogger, type Logger, systemClock, systemTimers, type Timers } from "../common/index.js";
import { errorMessage } from "./hardware-errors.js";
import type { GpuReading, TelemetryReadResult, TelemetrySample, TelemetrySource } from "./telemetry-types.js";

export interface TelemetrySamplerOptions {
  sources: readonly TelemetrySource[];
  /** Time from one sample's start to the next one's; a slow read delays the next sample, never doubles it. */
  intervalMs?: number;
  /** Samples kept for history(): 900 × 2 s = 30 minutes. */
  historyLength?: number;
  /** A source that has not answered by then is reported as an error for this sample. */
  readTimeoutMs?: number;
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
}

export type TelemetryListener = (sample: TelemetrySample) => void;

export interface TelemetrySampler {
  start(): void;
  /** Stops sampling; a sample being read is dropped. */
  stop(): void;
  latest(): TelemetrySample | undefined;
  /** Oldest first, at most historyLength samples. */
  history(): TelemetrySample[];
  subscribe(listener: TelemetryListener): () => void;
}

export const DEFAULT_TELEMETRY_INTERVAL_MS = 2000;
export const DEFAULT_TELEMETRY_HISTORY_LENGTH = 900;

export function createTelemetrySampler(options: TelemetrySamplerOptions): TelemetrySampler {
  const intervalMs = options.intervalMs ?? DEFAULT_TELEMETRY_INTERVAL_MS;
  const historyLength = options.historyLength ?? DEFAULT_TELEMETRY_HISTORY_LENGTH;
  const readTimeoutMs = options.readTimeoutMs ?? 5000;
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const logger = options.logger ?? createSilentLogger();
  if (!(intervalMs > 0) || !Number.isInteger(historyLength) || historyLength < 1) {
    throw new RangeError(`intervalMs must be > 0 and historyLength a positive integer (got ${intervalMs}, ${historyLength}).`);
  }

  // A fixed-size ring: `next` is where the following sample goes.
  const ring: TelemetrySample[] = [];
  let next = 0;
  const listeners = new Set<TelemetryListener>();
  // The last error per source, so a failure that repeats every 2 s is logged once, and its end too.
  const lastErrors = new Map<string, string>();
  let running = false;
  let timer: unknown;
  let inFlight: AbortController | undefined;

  async function readSource(source: TelemetrySource, signal: AbortSignal): Promise<TelemetryReadResult> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal.addEventListener("abort", abort);
    let handle: unknown;
    const timedOut = new Promise<TelemetryReadResult>((resolve) => {
      handle = timers.setTimeout(() => {
        controller.abort();
        resolve({ status: "error", error: `no answer within ${readTimeoutMs} ms` });
      }, readTimeoutMs);
    });
    try {
      const read = source.read({ signal: controller.signal }).catch((error: unknown) => ({ status: "error" as const, error: errorMessage(error) }));
      return await Promise.race([read, timedOut]);
    } finally {
      timers.clearTimeout(handle);
      signal.removeEventListener("abort", abort);
    }
  }

  function noteErrors(source: TelemetrySource, errors: string[]) {
    const current = errors.join("; ");
    const previous = lastErrors.get(source.name) ?? "";
    if (current === previous) return;
    if (current) logger.warn({ source: source.name, error: current }, "GPU telemetry source failing");
    else logger.info({ source: source.name }, "GPU telemetry source recovered");
    lastErrors.set(source.name, current);
  }

  async function takeSample(signal: AbortSignal): Promise<TelemetrySample> {
    const at = clock.now();
    const results = await Promise.all(options.sources.map((source) => readSource(source, signal)));
    const gpus: GpuReading[] = [];
    const errors: string[] = [];
    results.forEach((result, i) => {
      const source = options.sources[i]!;
      const sourceErrors: string[] = [];
      if (result.status === "ok") {
        gpus.push(...result.gpus);
        sourceErrors.push(...result.problems);
      } else if (result.status === "error") {
        sourceErrors.push(result.error);
      }
      noteErrors(source, sourceErrors);
      errors.push(...sourceErrors.map((error) => `${source.name}: ${error}`));
    });
    return { at, gpus, errors };
  }

  function publish(sample: TelemetrySample) {
    ring[next] = sample;
    next = (next + 1) % historyLength;
    for (const listener of listeners) {
      try {
        listener(sample);
      } catch (error) {
        logger.error({ err: error }, "telemetry listener threw");
      }
    }
  }

  function schedule(delayMs: number) {
    timer = timers.setTimeout(() => {
      timer = undefined;
      void tick();
    }, delayMs);
  }

  async function tick() {
    // After a quick stop/start the previous read may still be running: it will schedule the next one.
    if (!running || inFlight) return;
    const controller = new AbortController();
    inFlight = controller;
    const startedAt = clock.now();
    try {
      const sample = await takeSample(controller.signal);
      if (!controller.signal.aborted) publish(sample);
    } catch (error) {
      logger.error({ err: error }, "telemetry sample failed");
    } finally {
      inFlight = undefined;
      if (running && timer === undefined) schedule(Math.max(0, intervalMs - (clock.now() - startedAt)));
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      void tick();
    },
    stop() {
      running = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      inFlight?.abort();
    },
    latest: () => (ring.length === 0 ? undefined : ring[(next - 1 + historyLength) % historyLength]),
    history: () => (ring.length < historyLength ? [...ring] : [...ring.slice(next), ...ring.slice(0, next)]),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
