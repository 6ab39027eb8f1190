import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { createTelemetrySampler } from "./telemetry-sampler.js";
import { emptyReading, type TelemetryReadResult, type TelemetrySample, type TelemetrySource } from "./telemetry-types.js";

const gpu = (temperatureC: number) => ({ ...emptyReading({ id: "0000:01:00.0", vendor: "nvidia", name: "Test GPU", pciBusId: "0000:01:00.0" }), temperatureC });

/** A source whose answers the test scripts, counting calls and how many run at once. */
function scriptedSource(answer: (call: number, signal: AbortSignal) => Promise<TelemetryReadResult> | TelemetryReadResult, name = "test-gpu") {
  const stats = { calls: 0, running: 0, maxRunning: 0, signals: [] as AbortSignal[] };
  const source: TelemetrySource = {
    name,
    async read({ signal }) {
      stats.calls++;
      stats.running++;
      stats.maxRunning = Math.max(stats.maxRunning, stats.running);
      stats.signals.push(signal);
      try {
        return await answer(stats.calls, signal);
      } finally {
        stats.running--;
      }
    },
  };
  return { source, stats };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("createTelemetrySampler", () => {
  it("samples at start and then once per interval, stamping each sample with the clock", async () => {
    const { source } = scriptedSource((call) => ({ status: "ok", gpus: [gpu(40 + call)], problems: [] }));
    const sampler = createTelemetrySampler({ sources: [source], intervalMs: 2000 });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sampler.history()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1999);
    expect(sampler.history()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(4000);
    const history = sampler.history();
    expect(history.map((s) => s.at - history[0]!.at)).toEqual([0, 2000, 4000, 6000]);
    expect(history.map((s) => s.gpus[0]!.temperatureC)).toEqual([41, 42, 43, 44]);
    expect(sampler.latest()).toBe(history.at(-1));
    sampler.stop();
  });

  it("keeps a bounded history, oldest first", async () => {
    const { source } = scriptedSource((call) => ({ status: "ok", gpus: [gpu(call)], problems: [] }));
    const sampler = createTelemetrySampler({ sources: [source], intervalMs: 1000, historyLength: 3 });
    sampler.start();
    await vi.advanceTimersByTimeAsync(9000);
    expect(sampler.history().map((s) => s.gpus[0]!.temperatureC)).toEqual([8, 9, 10]);
    expect(sampler.latest()!.gpus[0]!.temperatureC).toBe(10);
    sampler.stop();
  });

  it("never has two reads of a source in flight: a slow read delays the next sample", async () => {
    let release!: () => void;
    const { source, stats } = scriptedSource((call) =>
      call === 1 ? new Promise<TelemetryReadResult>((resolve) => (release = () => resolve({ status: "ok", gpus: [gpu(1)], problems: [] }))) : { status: "ok", gpus: [gpu(call)], problems: [] },
    );
    const sampler = createTelemetrySampler({ sources: [source], intervalMs: 2000, readTimeoutMs: 60_000 });
    sampler.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stats.calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(2000);
    expect(stats.calls).toBe(3);
    expect(stats.maxRunning).toBe(1);
    // The slow sample is stamped when it started; the next one follows without waiting another interval.
    expect(sampler.history().map((s) => s.at - sampler.history()[0]!.at)).toEqual([0, 10_000, 12_000]);
    sampler.stop();
  });

  it("does not start a second read when stopped and restarted while a read is in flight", async () => {
    let release!: () => void;
    const { source, stats } = scriptedSource((call) =>
      call === 1 ? new Promise<TelemetryReadResult>((resolve) => (release = () => resolve({ status: "ok", gpus: [], problems: [] }))) : { status: "ok", gpus: [gpu(call)], problems: [] },
    );
    const sampler = createTelemetrySampler({ sources: [source], intervalMs: 2000, readTimeoutMs: 60_000 });
    sampler.start();
    await vi.advanceTimersByTimeAsync(100);
    sampler.stop();
    sampler.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(stats.calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(2000);
    expect(stats.maxRunning).toBe(1);
    // The interrupted sample is dropped; sampling carries on from the restart.
    expect(sampler.history().map((s) => s.gpus[0]?.temperatureC)).toEqual([2]);
    sampler.stop();
  });

  it("gives up on a read after its timeout, reports it, and aborts it", async () => {
    const { source, stats } = scriptedSource(() => new Promise<TelemetryReadResult>(() => {}), "nvidia-smi");
    const sampler = createTelemetrySampler({ sources: [source], intervalMs: 2000, readTimeoutMs: 500 });
    sampler.start();
    await vi.advanceTimersByTimeAsync(499);
    expect(sampler.latest()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(sampler.latest()).toMatchObject({ gpus: [], errors: ["nvidia-smi: no answer within 500 ms"] });
    expect(stats.signals[0]!.aborted).toBe(true);
    sampler.stop();
  });

  it("reports a failing source in every sample but logs it once, and logs the recovery", async () => {
    const failing = { status: "error", error: "nvidia-smi exited with code 9: NVIDIA-SMI has failed" } as const;
    const { source } = scriptedSource((call) => (call <= 4 ? failing : { status: "ok", gpus: [gpu(50)], problems: [] }), "nvidia-smi");
    const logger = createSilentLogger();
    const warn = vi.spyOn(logger, "warn");
    const info = vi.spyOn(logger, "info");
    const sampler = createTelemetrySampler({ sources: [source], intervalMs: 2000, logger });
    sampler.start();
    await vi.advanceTimersByTimeAsync(8000);
    const history = sampler.history();
    expect(history.slice(0, 4).map((s) => s.errors)).toEqual(Array(4).fill(["nvidia-smi: nvidia-smi exited with code 9: NVIDIA-SMI has failed"]));
    expect(history[4]).toMatchObject({ errors: [], gpus: [{ temperatureC: 50 }] });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledTimes(1);
    sampler.stop();
  });

  it("merges sources and leaves absent ones out without an error", async () => {
    const nvidia = scriptedSource(() => ({ status: "ok", gpus: [gpu(60)], problems: ["unexpected nvidia-smi line: junk"] }), "nvidia-smi");
    const amd = scriptedSource(() => ({ status: "absent" }), "amd-sysfs");
    const thrower = scriptedSource(() => {
      throw new Error("boom");
    }, "broken");
    const sampler = createTelemetrySampler({ sources: [nvidia.source, amd.source, thrower.source] });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sampler.latest()).toMatchObject({ gpus: [{ temperatureC: 60 }], errors: ["nvidia-smi: unexpected nvidia-smi line: junk", "broken: boom"] });
    sampler.stop();
  });

  it("tells subscribers about each sample until they unsubscribe, and stops when stopped", async () => {
    const { source, stats } = scriptedSource(() => ({ status: "ok", gpus: [], problems: [] }));
    const sampler = createTelemetrySampler({ sources: [source], intervalMs: 1000 });
    const seen: TelemetrySample[] = [];
    const unsubscribe = sampler.subscribe((sample) => seen.push(sample));
    sampler.subscribe(() => {
      throw new Error("a broken listener must not stop the others");
    });
    sampler.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(seen).toHaveLength(3);
    unsubscribe();
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toHaveLength(3);
    sampler.stop();
    const callsAtStop = stats.calls;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stats.calls).toBe(callsAtStop);
  });
});
