import { describe, expect, it } from "vitest";
import {
  contributionDecisionSchema,
  contributionReasonCodeSchema,
  decideContribution,
  initialPolicyState,
  publicReasonFor,
  type ContributionDecision,
  type ContributionInputs,
  type PolicyState,
} from "./contribution-policy.js";
import type { PolicyGpuReading } from "./gpu-limits.js";
import { parsePolicyConfig, type PolicyConfigInput } from "./policy-config.js";
import { localTimeAtOffset } from "./schedule-windows.js";

const GiB = 2 ** 30;
// Monday 2025-01-06 12:00 UTC.
const MONDAY_NOON = Date.UTC(2025, 0, 6, 12, 0);

interface Case {
  config?: PolicyConfigInput;
  now?: number;
  offsetMinutes?: number;
  idleSeconds?: number;
  locked?: boolean;
  suspended?: boolean;
  gpu?: PolicyGpuReading | null;
  gpus?: PolicyGpuReading[];
  ourVramBytes?: number;
  games?: string[];
  gameRunning?: boolean;
  otherGpuUsers?: ContributionInputs["otherGpuUsers"];
}

function inputs(c: Case = {}): ContributionInputs {
  const gpus = c.gpus ?? (c.gpu === null ? [] : [{ temperatureC: 60, powerW: 150, powerLimitW: 350, vramUsedBytes: 2 * GiB, vramTotalBytes: 16 * GiB, ...c.gpu }]);
  return {
    config: parsePolicyConfig({ mode: "always", ...c.config }),
    now: c.now ?? MONDAY_NOON,
    localTime: localTimeAtOffset(c.offsetMinutes ?? 0),
    idle: { idleSeconds: c.idleSeconds ?? 0, locked: c.locked ?? false, suspended: c.suspended ?? false },
    telemetry: c.gpu === null && !c.gpus ? null : { gpus },
    ourVramBytes: c.ourVramBytes ?? 0,
    gameRunning: { running: c.gameRunning ?? (c.games ?? []).length > 0, names: c.games ?? [] },
    otherGpuUsers: c.otherGpuUsers ?? [],
  };
}

function decide(c: Case = {}, previous?: PolicyState): ContributionDecision {
  const { decision } = decideContribution(inputs(c), previous);
  return contributionDecisionSchema.parse(decision);
}

/** Runs readings through the policy one after another, carrying the hysteresis state. */
function sequence(cases: Case[]): ContributionDecision[] {
  let state = initialPolicyState();
  return cases.map((c) => {
    const result = decideContribution(inputs(c), state);
    state = result.state;
    return result.decision;
  });
}

describe("decideContribution: every reason", () => {
  it.each<[string, Case, Omit<ContributionDecision, "reason"> & { reason: string | RegExp }]>([
    ["soft pause", { config: { mode: "paused" } }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "paused-by-owner", abortRunning: false, reason: "Paused by you; running jobs finish, no new ones start" }],
    ["hard pause", { config: { mode: "paused", pauseKind: "hard" } }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "paused-by-owner", abortRunning: true, reason: "Paused by you; running jobs were stopped" }],
    ["suspend", { suspended: true }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "suspended", abortRunning: true, reason: "Paused: the computer is going to sleep" }],
    ["a game", { games: ["Cyberpunk2077.exe"] }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "game-running", abortRunning: true, reason: "Paused: Cyberpunk2077.exe is running" }],
    ["two games", { games: ["eldenring.exe", "steam.exe"] }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "game-running", abortRunning: true, reason: "Paused: eldenring.exe and steam.exe are running" }],
    ["an unnamed game", { gameRunning: true }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "game-running", abortRunning: true, reason: "Paused: a game is running" }],
    ["a graphics program", { otherGpuUsers: [{ name: "blender", kind: "graphics" }] }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "gpu-in-use", abortRunning: false, reason: "Paused: blender is using the GPU" }],
    [
      "many graphics programs",
      { otherGpuUsers: ["obs", "blender", "kdenlive", "gimp", "darktable"].map((name) => ({ name, kind: "graphics" as const })) },
      { contribute: false, maxConcurrentJobs: 0, reasonCode: "gpu-in-use", abortRunning: false, reason: "Paused: obs, blender, kdenlive and 2 more are using the GPU" },
    ],
    ["too hot", { gpu: { temperatureC: 85 } }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "too-hot", abortRunning: true, reason: "Paused: GPU at 85 °C (limit 83 °C); resumes at 75 °C" }],
    ["too hot on a second GPU", { gpus: [{ temperatureC: 50 }, { temperatureC: 84.5 }] }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "too-hot", abortRunning: true, reason: "Paused: GPU 1 at 84.5 °C (limit 83 °C); resumes at 75 °C" }],
    ["over a fixed power cap", { config: { limits: { maxPowerW: 200 } }, gpu: { powerW: 230 } }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "power-limit", abortRunning: false, reason: "Paused: GPU drawing 230 W (limit 200 W); resumes at 180 W" }],
    ["over 90% of the card's limit", { gpu: { powerW: 320, powerLimitW: 350 } }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "power-limit", abortRunning: false, reason: "Paused: GPU drawing 320 W (limit 315 W); resumes at 284 W" }],
    [
      "VRAM taken by others",
      { ourVramBytes: 3 * GiB, gpu: { vramUsedBytes: 7.9 * GiB, vramTotalBytes: 8 * GiB } },
      { contribute: false, maxConcurrentJobs: 0, reasonCode: "vram-low", abortRunning: false, reason: "Paused: other programs use 4.9 GB of 8.0 GB VRAM; the model needs 3.0 GB" },
    ],
    [
      "a model larger than the VRAM share",
      { ourVramBytes: 7 * GiB, gpu: { vramUsedBytes: 7 * GiB, vramTotalBytes: 8 * GiB } },
      { contribute: false, maxConcurrentJobs: 0, reasonCode: "vram-low", abortRunning: false, reason: "Paused: the model needs 7.0 GB of VRAM but your limit allows 6.4 GB (80% of 8.0 GB)" },
    ],
    ["owner active", { config: { mode: "when-idle" }, idleSeconds: 40 }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "owner-active", abortRunning: false, reason: "Waiting: you were active 40 s ago; contributing after 5 min idle" }],
    [
      "outside the schedule",
      { config: { mode: "schedule", schedule: [{ days: [6], start: "22:00", end: "06:00" }] } },
      { contribute: false, maxConcurrentJobs: 0, reasonCode: "outside-schedule", abortRunning: false, reason: "Outside your schedule (next window Sat 22:00)" },
    ],
    ["an empty schedule", { config: { mode: "schedule" } }, { contribute: false, maxConcurrentJobs: 0, reasonCode: "outside-schedule", abortRunning: false, reason: "Outside your schedule (no windows set: add one in Settings)" }],
    ["contributing", {}, { contribute: true, maxConcurrentJobs: 2, reasonCode: "contributing", abortRunning: false, reason: "Contributing (2 jobs at a time)" }],
    ["no telemetry at all", { gpu: null }, { contribute: true, maxConcurrentJobs: 2, reasonCode: "contributing", abortRunning: false, reason: "Contributing (2 jobs at a time)" }],
  ])("%s", (_name, c, expected) => {
    const decision = decide(c);
    expect(decision).toMatchObject({ ...expected, reason: expect.anything() });
    if (typeof expected.reason === "string") expect(decision.reason).toBe(expected.reason);
    else expect(decision.reason).toMatch(expected.reason);
  });

  it("covers every reason code in the table above", () => {
    // Guards the table: a new code must come with a case.
    expect(contributionReasonCodeSchema.options).toHaveLength(10);
  });
});

describe("decideContribution: priority order (paused > suspended > game > other GPU users > thermal > power > VRAM > mode)", () => {
  // Each condition alone would stop us; with all of them from row i down, row i's reason must win.
  const conditions: Array<[string, Case]> = [
    ["paused-by-owner", { config: { mode: "paused" } }],
    ["suspended", { suspended: true }],
    ["game-running", { games: ["game.exe"] }],
    ["gpu-in-use", { otherGpuUsers: [{ name: "obs", kind: "graphics" }] }],
    ["too-hot", { gpu: { temperatureC: 90 } }],
    ["power-limit", { gpu: { powerW: 340 } }],
    ["vram-low", { ourVramBytes: 4 * GiB, gpu: { vramUsedBytes: 15.9 * GiB } }],
  ];
  const modeRules: Array<[string, Case]> = [
    ["owner-active", { config: { mode: "when-idle" }, idleSeconds: 5 }],
    ["outside-schedule", { config: { mode: "schedule", schedule: [{ days: [0], start: "00:00", end: "01:00" }] } }],
  ];

  function combine(cases: Case[]): Case {
    // Lower priorities first, so a higher one's mode overrides theirs.
    return [...cases].reverse().reduce<Case>(
      (all, c) => ({ ...all, ...c, config: { ...all.config, ...c.config }, gpu: { ...all.gpu, ...c.gpu } }),
      {},
    );
  }

  for (const [modeCode, modeCase] of modeRules) {
    const rows = [...conditions, [modeCode, modeCase] as [string, Case]];
    it.each(rows.map((row, index) => [row[0], index] as const))(`with ${modeCode} last: %s wins over everything below it`, (code, index) => {
      expect(decide(combine(rows.slice(index).map((row) => row[1]))).reasonCode).toBe(code);
    });
  }

  it("reports contributing once nothing stops it", () => {
    expect(decide(combine([])).reasonCode).toBe("contributing");
  });
});

describe("decideContribution: modes", () => {
  it.each<[string, Case, string]>([
    ["always ignores an active owner", { config: { mode: "always" }, idleSeconds: 0 }, "contributing"],
    ["always ignores the schedule", { config: { mode: "always", schedule: [{ days: [0], start: "00:00", end: "01:00" }] } }, "contributing"],
    ["when-idle with an active owner", { config: { mode: "when-idle" }, idleSeconds: 0 }, "owner-active"],
    ["when-idle after the threshold", { config: { mode: "when-idle" }, idleSeconds: 300 }, "contributing"],
    ["when-idle ignores the schedule", { config: { mode: "when-idle", schedule: [{ days: [0], start: "00:00", end: "01:00" }] }, idleSeconds: 600 }, "contributing"],
    ["schedule inside a window", { config: { mode: "schedule", schedule: [{ days: [1], start: "09:00", end: "17:00" }] } }, "contributing"],
    ["schedule ignores an active owner", { config: { mode: "schedule", schedule: [{ days: [1], start: "09:00", end: "17:00" }] }, idleSeconds: 0 }, "contributing"],
    ["schedule outside its windows", { config: { mode: "schedule", schedule: [{ days: [1], start: "13:00", end: "17:00" }] } }, "outside-schedule"],
    ["paused, though idle and in a window", { config: { mode: "paused", schedule: [{ days: [1], start: "09:00", end: "17:00" }] }, idleSeconds: 9999, locked: true }, "paused-by-owner"],
  ])("%s", (_name, c, code) => {
    expect(decide(c).reasonCode).toBe(code);
  });
});

describe("decideContribution: idle threshold and lock", () => {
  it.each<[string, Case, boolean, string?]>([
    ["active 299 s of 300", { idleSeconds: 299 }, false, "Waiting: you were active 4 min 59 s ago; contributing after 5 min idle"],
    ["idle exactly 300 s", { idleSeconds: 300 }, true],
    ["idle an hour", { idleSeconds: 3900 }, true],
    ["locked counts as idle at once", { idleSeconds: 3, locked: true }, true],
    ["locked, but lock does not count", { idleSeconds: 3, locked: true, config: { lockedCountsAsIdle: false } }, false],
    ["locked and idle long enough, lock not counting", { idleSeconds: 301, locked: true, config: { lockedCountsAsIdle: false } }, true],
    ["threshold 0: always idle", { idleSeconds: 0, config: { idleAfterSeconds: 0 } }, true],
    ["a 90 s threshold", { idleSeconds: 20, config: { idleAfterSeconds: 90 } }, false, "Waiting: you were active 20 s ago; contributing after 1 min 30 s idle"],
  ])("%s", (_name, c, contribute, reason) => {
    const decision = decide({ ...c, config: { mode: "when-idle", ...c.config } });
    expect(decision.contribute).toBe(contribute);
    expect(decision.reasonCode).toBe(contribute ? "contributing" : "owner-active");
    if (reason) expect(decision.reason).toBe(reason);
  });
});

describe("decideContribution: schedule windows (local time)", () => {
  const at = (day: number, time: string) => {
    const [hours = 0, minutes = 0] = time.split(":").map(Number);
    // 2025-01-05 is a Sunday (day 0).
    return Date.UTC(2025, 0, 5 + day, hours, minutes);
  };
  const friNight = { days: [5], start: "22:00", end: "02:00" };
  const satToSun = { days: [6], start: "23:00", end: "01:00" };

  it.each<[string, PolicyConfigInput["schedule"], number, number, string | null]>([
    ["inside a day window", [{ days: [1, 2, 3], start: "09:00", end: "17:00" }], at(2, "16:59"), 0, null],
    ["at its end (exclusive)", [{ days: [1, 2, 3], start: "09:00", end: "17:00" }], at(2, "17:00"), 0, "Wed 09:00"],
    ["at its start (inclusive)", [{ days: [1], start: "09:00", end: "17:00" }], at(1, "09:00"), 0, null],
    ["on a day it does not start", [{ days: [1], start: "09:00", end: "17:00" }], at(2, "10:00"), 0, "Mon 09:00"],
    ["before a midnight-crossing window", [friNight], at(5, "21:59"), 0, "Fri 22:00"],
    ["in it before midnight", [friNight], at(5, "23:30"), 0, null],
    ["in it after midnight, the next day", [friNight], at(6, "01:59"), 0, null],
    ["at its end the next day", [friNight], at(6, "02:00"), 0, "Fri 22:00"],
    ["Saturday → Sunday, after midnight", [satToSun], at(0, "00:30"), 0, null],
    ["Saturday → Sunday, over", [satToSun], at(0, "01:00"), 0, "Sat 23:00"],
    ["an evening up to 24:00", [{ days: [3], start: "20:00", end: "24:00" }], at(3, "23:59"), 0, null],
    ["24:00 ends at midnight", [{ days: [3], start: "20:00", end: "24:00" }], at(4, "00:00"), 0, "Wed 20:00"],
    ["a whole day", [{ days: [2], start: "00:00", end: "24:00" }], at(2, "13:00"), 0, null],
    ["the nearest of several windows", [{ days: [4], start: "18:00", end: "19:00" }, { days: [2], start: "18:00", end: "19:00" }], at(1, "12:00"), 0, "Tue 18:00"],
    ["later the same day", [{ days: [1], start: "18:00", end: "19:00" }, { days: [2], start: "08:00", end: "09:00" }], at(1, "12:00"), 0, "Mon 18:00"],
    ["a week ahead when today's has passed", [{ days: [1], start: "08:00", end: "09:00" }], at(1, "09:00"), 0, "Mon 08:00"],
    ["in local time east of UTC (UTC 21:30 = 23:30 local)", [friNight], at(5, "21:30"), 120, null],
    ["in local time west of UTC (UTC 01:30 Sat = 20:30 Fri local)", [friNight], at(6, "01:30"), -300, "Fri 22:00"],
  ])("%s", (_name, schedule, now, offsetMinutes, next) => {
    const decision = decide({ config: { mode: "schedule", schedule }, now, offsetMinutes });
    if (next === null) expect(decision.reasonCode).toBe("contributing");
    else expect(decision).toMatchObject({ reasonCode: "outside-schedule", reason: `Outside your schedule (next window ${next})` });
  });
});

describe("decideContribution: thermal hysteresis (limit 83 °C, resume at 75 °C)", () => {
  const temps = (values: Array<number | null>): Case[] => values.map((temperatureC) => ({ gpu: { temperatureC } }));

  it.each<[string, Array<number | null>, boolean[]]>([
    ["stops at the limit and resumes only at limit - margin", [80, 83, 82, 76, 75], [true, false, false, false, true]],
    ["never flaps around the limit", [83, 82.9, 83, 82, 83], [false, false, false, false, false]],
    ["below the limit never stops", [70, 82, 82.9, 81], [true, true, true, true]],
    ["unknown readings neither trip…", [null, null, 82], [true, true, true]],
    ["…nor clear", [84, null, null, 80, null, 74], [false, false, false, false, false, true]],
    ["trips again after recovering", [83, 75, 78, 83], [false, true, true, false]],
  ])("%s: %j", (_name, values, contribute) => {
    const decisions = sequence(temps(values));
    expect(decisions.map((d) => d.contribute)).toEqual(contribute);
    for (const decision of decisions.filter((d) => !d.contribute)) expect(decision).toMatchObject({ reasonCode: "too-hot", abortRunning: true });
  });

  it("explains a trip whose sensor then goes quiet", () => {
    const [, quiet] = sequence(temps([86, null]));
    expect(quiet?.reason).toBe("Paused: GPU was at 86 °C (limit 83 °C); temperature unknown now, resumes at 75 °C");
  });

  it("takes the hottest of several GPUs, and waits for all of them to cool", () => {
    const decisions = sequence([
      { gpus: [{ temperatureC: 70 }, { temperatureC: 83 }] },
      { gpus: [{ temperatureC: 76 }, { temperatureC: 70 }] },
      { gpus: [{ temperatureC: 75 }, { temperatureC: 74 }] },
    ]);
    expect(decisions.map((d) => d.contribute)).toEqual([false, false, true]);
    expect(decisions[1]?.reason).toBe("Paused: GPU 0 at 76 °C (limit 83 °C); resumes at 75 °C");
  });

  it("keeps tracking heat under a higher-priority reason", () => {
    const decisions = sequence([{ gpu: { temperatureC: 90 }, games: ["game.exe"] }, { gpu: { temperatureC: 80 } }, { gpu: { temperatureC: 75 } }]);
    expect(decisions.map((d) => d.reasonCode)).toEqual(["game-running", "too-hot", "contributing"]);
  });

  it("uses the configured limit and margin", () => {
    const decisions = sequence(
      [75, 76, 72, 71].map((temperatureC) => ({ gpu: { temperatureC }, config: { limits: { maxTemperatureC: 76, temperatureResumeMarginC: 5 } } })),
    );
    expect(decisions.map((d) => d.contribute)).toEqual([true, false, false, true]);
  });

  it("records when the trip happened", () => {
    let state = initialPolicyState();
    state = decideContribution(inputs({ gpu: { temperatureC: 84 }, now: 1000 }), state).state;
    state = decideContribution(inputs({ gpu: { temperatureC: 80 }, now: 3000 }), state).state;
    expect(state.thermal).toMatchObject({ tripped: true, since: 1000, lastValue: 80 });
  });
});

describe("decideContribution: power hysteresis (resume 10% below the cap)", () => {
  it.each<[string, PolicyConfigInput["limits"], Array<Pick<PolicyGpuReading, "powerW" | "powerLimitW">>, boolean[]]>([
    ["a fixed cap of 300 W", { maxPowerW: 300 }, [{ powerW: 250 }, { powerW: 300 }, { powerW: 280 }, { powerW: 271 }, { powerW: 270 }], [true, false, false, false, true]],
    ["90% of a 400 W card (360 W)", {}, [350, 360, 330, 325, 324].map((powerW) => ({ powerW, powerLimitW: 400 })), [true, false, false, false, true]],
    ["unknown power holds the trip", { maxPowerW: 300 }, [{ powerW: 310 }, { powerW: null }, { powerW: 200 }], [false, false, true]],
    ["an unknown card limit and no cap: never trips", {}, [{ powerW: 999, powerLimitW: null }], [true]],
    ["a fixed cap applies when the card limit is unknown", { maxPowerW: 250 }, [{ powerW: 260, powerLimitW: null }], [false]],
  ])("%s", (_name, limits, readings, contribute) => {
    const decisions = sequence(readings.map((reading) => ({ config: { limits }, gpu: reading })));
    expect(decisions.map((d) => d.contribute)).toEqual(contribute);
    for (const decision of decisions.filter((d) => !d.contribute)) expect(decision).toMatchObject({ reasonCode: "power-limit", abortRunning: false });
  });
});

describe("decideContribution: how many jobs at a time", () => {
  it.each<[string, Case, number, string]>([
    ["the configured maximum", {}, 2, "Contributing (2 jobs at a time)"],
    ["a larger configured maximum", { config: { limits: { maxConcurrentJobs: 4 } } }, 4, "Contributing (4 jobs at a time)"],
    ["6 °C below the limit: full", { gpu: { temperatureC: 77 } }, 2, "Contributing (2 jobs at a time)"],
    ["5 °C below the limit: one", { gpu: { temperatureC: 78 } }, 1, "Contributing (1 job at a time: GPU at 78 °C, near the 83 °C limit)"],
    ["a configured maximum of 1 near the limit", { gpu: { temperatureC: 80 }, config: { limits: { maxConcurrentJobs: 1 } } }, 1, "Contributing (1 job at a time)"],
    ["VRAM tight", { ourVramBytes: 6 * GiB, gpu: { vramUsedBytes: 7 * GiB, vramTotalBytes: 8 * GiB } }, 1, "Contributing (1 job at a time: VRAM is tight (410 MB to spare))"],
    ["VRAM comfortable", { ourVramBytes: 4 * GiB, gpu: { vramUsedBytes: 5 * GiB, vramTotalBytes: 16 * GiB } }, 2, "Contributing (2 jobs at a time)"],
    ["our usage unknown: VRAM not judged", { ourVramBytes: 0, gpu: { vramUsedBytes: 16 * GiB, vramTotalBytes: 16 * GiB } }, 2, "Contributing (2 jobs at a time)"],
    ["our usage read after the sample (others < 0)", { ourVramBytes: 5 * GiB, gpu: { vramUsedBytes: 4 * GiB, vramTotalBytes: 16 * GiB } }, 2, "Contributing (2 jobs at a time)"],
  ])("%s", (_name, c, jobs, reason) => {
    expect(decide(c)).toMatchObject({ contribute: true, maxConcurrentJobs: jobs, reason });
  });

  it("is 0 whenever not contributing", () => {
    for (const c of [{ config: { mode: "paused" as const } }, { games: ["g"] }, { gpu: { temperatureC: 99 } }]) expect(decide(c).maxConcurrentJobs).toBe(0);
  });
});

describe("decideContribution: other programs on the GPU", () => {
  it.each<["never" | "graphics" | "any", "compute" | "graphics", boolean]>([
    ["never", "graphics", true],
    ["never", "compute", true],
    ["graphics", "graphics", false],
    ["graphics", "compute", true],
    ["any", "graphics", false],
    ["any", "compute", false],
  ])("setting %s, a %s program: contribute %s", (setting, kind, contribute) => {
    const decision = decide({ config: { pauseWhenOtherGpuUsers: setting }, otherGpuUsers: [{ name: "app", kind }] });
    expect(decision.contribute).toBe(contribute);
  });

  it("ignores games when told to", () => {
    expect(decide({ config: { pauseWhenGameRunning: false }, games: ["game.exe"] }).reasonCode).toBe("contributing");
  });
});

describe("publicReasonFor", () => {
  it.each(contributionReasonCodeSchema.options)("%s says what kind of reason, never the owner's details", (code) => {
    const reason = publicReasonFor(code);
    expect(reason.length).toBeGreaterThan(0);
    expect(reason).not.toMatch(/\.exe|°C|schedule|you/i);
  });
});
