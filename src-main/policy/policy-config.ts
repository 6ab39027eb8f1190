import { z } from "zod";
import { InferSwarmError } from "../common/index.js";

const clockTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, "use 24-hour HH:MM, e.g. 22:00");

/** "HH:MM" (or "24:00" for the end of a day) → minutes since local midnight. */
export function minutesOfClockTime(time: string): number {
  const [hours = "0", minutes = "0"] = time.split(":");
  return Number(hours) * 60 + Number(minutes);
}

/**
 * A weekly window in local time. `days` are the days the window *starts* on (0 = Sunday, as
 * `Date.getDay()`); an end at or before the start crosses midnight into the next day.
 */
export const scheduleWindowSchema = z
  .object({
    days: z.array(z.number().int().min(0).max(6)).min(1).max(7),
    start: clockTime,
    end: z.union([clockTime, z.literal("24:00")]),
  })
  .refine((window) => window.start !== window.end, {
    message: "start and end are the same; use start 00:00 and end 24:00 for a whole day",
    path: ["end"],
  });

export const policyLimitsSchema = z.object({
  /** Stop (and abort running jobs) when any GPU reaches this temperature. */
  maxTemperatureC: z.number().min(40).max(110).default(83),
  /** Resume only once every GPU is this far below the limit, so one noisy sample cannot flap it. */
  temperatureResumeMarginC: z.number().min(1).max(40).default(8),
  /** A fixed power cap per GPU; null uses `maxPowerFractionOfLimit` of the card's own power limit. */
  maxPowerW: z.number().positive().max(2000).nullable().default(null),
  maxPowerFractionOfLimit: z.number().gt(0).max(1).default(0.9),
  /** The fraction of each card's VRAM this node may use. */
  vramShare: z.number().gt(0).max(1).default(0.8),
  maxConcurrentJobs: z.number().int().min(1).max(64).default(2),
});

export const contributionModeSchema = z.enum(["always", "when-idle", "schedule", "paused"]);
export const pauseKindSchema = z.enum(["soft", "hard"]);

/** The owner's settings for when this machine works for the swarm, and how hard. */
export const policyConfigSchema = z.object({
  mode: contributionModeSchema.default("when-idle"),
  /** soft: running jobs finish, none start; hard: running jobs are aborted (requesters fail over). */
  pauseKind: pauseKindSchema.default("soft"),
  idleAfterSeconds: z.number().int().min(0).max(86_400).default(300),
  schedule: z.array(scheduleWindowSchema).max(64).default([]),
  limits: policyLimitsSchema.prefault({}),
  pauseWhenGameRunning: z.boolean().default(true),
  /** Which other programs on the GPU make us step aside: graphics ones (a video editor, a browser game) by default. */
  pauseWhenOtherGpuUsers: z.enum(["never", "graphics", "any"]).default("graphics"),
  lockedCountsAsIdle: z.boolean().default(true),
});

export type ScheduleWindow = z.output<typeof scheduleWindowSchema>;
export type PolicyLimits = z.output<typeof policyLimitsSchema>;
export type ContributionMode = z.output<typeof contributionModeSchema>;
export type PauseKind = z.output<typeof pauseKindSchema>;
export type PolicyConfig = z.output<typeof policyConfigSchema>;
/** What an owner (or a config file) may write: every field optional, defaults filled on parse. */
export type PolicyConfigInput = z.input<typeof policyConfigSchema>;

/** Parses the owner's settings, filling defaults; throws POLICY_CONFIG_INVALID naming each bad field. */
export function parsePolicyConfig(input: unknown): PolicyConfig {
  const result = policyConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  throw new InferSwarmError(
    "POLICY_CONFIG_INVALID",
    `The contribution settings are invalid (${problems.join("; ")}). Fix these fields or remove them to use the defaults.`,
    { cause: result.error },
  );
}

export function defaultPolicyConfig(): PolicyConfig {
  return policyConfigSchema.parse({});
}
