import { z } from "zod";
import type { IdleReading } from "./idle-source.js";
import type { PolicyConfig, PolicyLimits } from "./policy-config.js";
import { DAY_NAMES, formatBytes, formatCelsius, formatDuration, formatWatts, listNames } from "./reason-text.js";
import { scheduleStatus, type LocalTimeAccessor } from "./schedule-windows.js";
import {
  hottestGpu,
  NEAR_TEMPERATURE_LIMIT_C,
  nextPowerState,
  nextThermalState,
  POWER_RESUME_FRACTION,
  vramStatus,
  type HysteresisState,
  type PolicyGpuReading,
  type PolicyTelemetrySample,
  type VramStatus,
} from "./gpu-limits.js";

/** Stable codes for UI icons and tests; listed in priority order, the first that applies wins. */
export const contributionReasonCodeSchema = z.enum([
  "paused-by-owner",
  "suspended",
  "game-running",
  "gpu-in-use",
  "too-hot",
  "power-limit",
  "vram-low",
  "owner-active",
  "outside-schedule",
  "contributing",
]);
export type ContributionReasonCode = z.output<typeof contributionReasonCodeSchema>;

/** The decision as the tray, the dashboard and the IPC/HTTP bridge see it. */
export const contributionDecisionSchema = z.object({
  contribute: z.boolean(),
  /** 0 when not contributing. */
  maxConcurrentJobs: z.number().int().min(0),
  /** For the owner: specific and human ("Paused: GPU at 85 °C (limit 83 °C); resumes at 75 °C"). */
  reason: z.string(),
  reasonCode: contributionReasonCodeSchema,
  /** Running jobs must stop now (hard pause, a game, too hot, sleep), not just finish. */
  abortRunning: z.boolean(),
});
export type ContributionDecision = z.output<typeof contributionDecisionSchema>;

export interface OtherGpuUser {
  name: string;
  kind: "compute" | "graphics";
}

export interface ContributionInputs {
  config: PolicyConfig;
  /** Epoch milliseconds. */
  now: number;
  /** Maps `now` to the owner's wall clock for the schedule (`systemLocalTime`, `localTimeAtOffset(m)`). */
  localTime: LocalTimeAccessor;
  idle: IdleReading;
  telemetry: PolicyTelemetrySample | null;
  /** VRAM held by this node's own process, so it is not counted as someone else's. */
  ourVramBytes: number;
  gameRunning: { running: boolean; names: readonly string[] };
  /** Other processes on the GPU (this node's own process excluded by whoever lists them). */
  otherGpuUsers: readonly OtherGpuUser[];
}

export interface PolicyState {
  thermal: HysteresisState;
  power: HysteresisState;
}

export interface ContributionResult {
  decision: ContributionDecision;
  state: PolicyState;
}

export function initialPolicyState(): PolicyState {
  const clear: HysteresisState = { tripped: false, since: null, lastValue: null, gpuIndex: null, limit: null };
  return { thermal: { ...clear }, power: { ...clear } };
}

/**
 * Whether this machine may work for the swarm now, and how much. Pure: everything it knows comes in
 * `inputs`, and the limits' hysteresis comes in `previous` and goes out in `state`, so callers keep it
 * between calls. The hysteresis is updated on every call, even while a higher-priority reason (a pause,
 * a game) decides, so a hot GPU is still remembered as hot when the game ends.
 */
export function decideContribution(inputs: ContributionInputs, previous: PolicyState = initialPolicyState()): ContributionResult {
  const { config } = inputs;
  const gpus = inputs.telemetry?.gpus ?? [];
  const state: PolicyState = {
    thermal: nextThermalState(previous.thermal, gpus, config.limits, inputs.now),
    power: nextPowerState(previous.power, gpus, config.limits, inputs.now),
  };
  const vram = vramStatus(gpus, inputs.ourVramBytes, config.limits.vramShare);
  const stop = firstReasonToStop(inputs, state, vram);
  if (stop) {
    return { decision: { contribute: false, maxConcurrentJobs: 0, ...stop }, state };
  }
  return { decision: contributing(config.limits, gpus, vram), state };
}

interface Stop {
  reasonCode: ContributionReasonCode;
  reason: string;
  abortRunning: boolean;
}

function firstReasonToStop(inputs: ContributionInputs, state: PolicyState, vram: VramStatus): Stop | null {
  const { config, idle } = inputs;
  const limits = config.limits;

  if (config.mode === "paused") {
    return config.pauseKind === "hard"
      ? { reasonCode: "paused-by-owner", reason: "Paused by you; running jobs were stopped", abortRunning: true }
      : { reasonCode: "paused-by-owner", reason: "Paused by you; running jobs finish, no new ones start", abortRunning: false };
  }
  if (idle.suspended) {
    return { reasonCode: "suspended", reason: "Paused: the computer is going to sleep", abortRunning: true };
  }
  if (config.pauseWhenGameRunning && inputs.gameRunning.running) {
    const names = inputs.gameRunning.names;
    const reason = names.length === 0 ? "Paused: a game is running" : `Paused: ${listNames(names)} ${names.length === 1 ? "is" : "are"} running`;
    return { reasonCode: "game-running", reason, abortRunning: true };
  }
  const blocking = inputs.otherGpuUsers.filter(
    (user) => config.pauseWhenOtherGpuUsers === "any" || (config.pauseWhenOtherGpuUsers === "graphics" && user.kind === "graphics"),
  );
  if (blocking.length > 0) {
    const names = blocking.map((user) => user.name);
    return {
      reasonCode: "gpu-in-use",
      reason: `Paused: ${listNames(names)} ${names.length === 1 ? "is" : "are"} using the GPU`,
      abortRunning: false,
    };
  }
  if (state.thermal.tripped) {
    const resumeAt = limits.maxTemperatureC - limits.temperatureResumeMarginC;
    const hottest = hottestGpu(inputs.telemetry?.gpus ?? []);
    const gpu = gpuLabel(state.thermal.gpuIndex, inputs.telemetry?.gpus.length ?? 0);
    const reason = hottest
      ? `Paused: ${gpu} at ${formatCelsius(hottest.value)} (limit ${formatCelsius(limits.maxTemperatureC)}); resumes at ${formatCelsius(resumeAt)}`
      : `Paused: ${gpu} was at ${formatCelsius(state.thermal.lastValue ?? limits.maxTemperatureC)} (limit ${formatCelsius(limits.maxTemperatureC)}); temperature unknown now, resumes at ${formatCelsius(resumeAt)}`;
    return { reasonCode: "too-hot", reason, abortRunning: true };
  }
  if (state.power.tripped) {
    const limit = state.power.limit ?? 0;
    const gpu = gpuLabel(state.power.gpuIndex, inputs.telemetry?.gpus.length ?? 0);
    return {
      reasonCode: "power-limit",
      reason: `Paused: ${gpu} drawing ${formatWatts(state.power.lastValue ?? limit)} (limit ${formatWatts(limit)}); resumes at ${formatWatts(limit * POWER_RESUME_FRACTION)}`,
      abortRunning: false,
    };
  }
  if (vram.kind === "short") {
    const reason = vram.limitedBy === "others"
      ? `Paused: other programs use ${formatBytes(vram.othersBytes)} of ${formatBytes(vram.totalBytes)} VRAM; the model needs ${formatBytes(vram.neededBytes)}`
      : `Paused: the model needs ${formatBytes(vram.neededBytes)} of VRAM but your limit allows ${formatBytes(vram.totalBytes * limits.vramShare)} (${Math.round(limits.vramShare * 100)}% of ${formatBytes(vram.totalBytes)})`;
    return { reasonCode: "vram-low", reason, abortRunning: false };
  }
  if (config.mode === "when-idle") {
    const idleEnough = (idle.locked && config.lockedCountsAsIdle) || idle.idleSeconds >= config.idleAfterSeconds;
    if (!idleEnough) {
      return {
        reasonCode: "owner-active",
        reason: `Waiting: you were active ${formatDuration(idle.idleSeconds)} ago; contributing after ${formatDuration(config.idleAfterSeconds)} idle`,
        abortRunning: false,
      };
    }
  }
  if (config.mode === "schedule") {
    const status = scheduleStatus(config.schedule, inputs.localTime(inputs.now));
    if (!status.inWindow) {
      const reason = status.next
        ? `Outside your schedule (next window ${DAY_NAMES[status.next.dayOfWeek]} ${status.next.start})`
        : "Outside your schedule (no windows set: add one in Settings)";
      return { reasonCode: "outside-schedule", reason, abortRunning: false };
    }
  }
  return null;
}

function contributing(limits: PolicyLimits, gpus: readonly PolicyGpuReading[], vram: VramStatus): ContributionDecision {
  const hottest = hottestGpu(gpus);
  let why: string | null = null;
  if (hottest && hottest.value >= limits.maxTemperatureC - NEAR_TEMPERATURE_LIMIT_C) {
    why = `${gpuLabel(hottest.index, gpus.length)} at ${formatCelsius(hottest.value)}, near the ${formatCelsius(limits.maxTemperatureC)} limit`;
  } else if (vram.kind === "tight") {
    why = `VRAM is tight (${formatBytes(vram.spareBytes)} to spare)`;
  }
  const jobs = why === null ? limits.maxConcurrentJobs : 1;
  const count = `${jobs} ${jobs === 1 ? "job" : "jobs"} at a time`;
  return {
    contribute: true,
    maxConcurrentJobs: jobs,
    reason: why === null || limits.maxConcurrentJobs === 1 ? `Contributing (${count})` : `Contributing (${count}: ${why})`,
    reasonCode: "contributing",
    abortRunning: false,
  };
}

function gpuLabel(index: number | null, gpuCount: number): string {
  return gpuCount > 1 && index !== null ? `GPU ${index}` : "GPU";
}

/**
 * What a remote requester may be told (the engine puts it in ENGINE_PAUSED / ENGINE_PREEMPTED errors that
 * cross the network): the category, never the owner's game, programs or habits.
 */
export function publicReasonFor(code: ContributionReasonCode): string {
  switch (code) {
    case "paused-by-owner":
    case "owner-active":
    case "outside-schedule":
      return "the owner is not sharing this GPU right now";
    case "suspended":
      return "the machine is going to sleep";
    case "game-running":
    case "gpu-in-use":
      return "the owner needs the GPU";
    case "too-hot":
    case "power-limit":
    case "vram-low":
      return "the GPU is at its thermal, power or memory limit";
    case "contributing":
      return "the node is working";
  }
}
