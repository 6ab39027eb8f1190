import { describe, expect, it } from "vitest";
import { createFakeTime, createSilentLogger } from "../common/index.js";
import { createHeadlessIdleSource, parseSessionIds, parseShowSession, type CommandRunner } from "./idle-source.js";

const NOW = Date.UTC(2025, 0, 6, 12, 0);
const micros = (epochMs: number) => String(epochMs * 1000);

// Recorded formats: systemd 252 (Debian 12) prints SESSION UID USER SEAT TTY; systemd 256 adds LEADER,
// CLASS, IDLE and SINCE, and lists the user's service manager as a session of its own.
const LIST_252 = "     2 1000 alice seat0 tty2\n    14 1000 alice       pts/0\n";
const LIST_256 = "      2 1000 alice seat0 1312 user    tty2  no   -\n     c1 1000 alice -     1290 manager -     no   -\n";

function block(properties: Record<string, string>): string {
  return Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}

const desktop = (overrides: Record<string, string> = {}) =>
  block({ Id: "2", Type: "wayland", Remote: "no", IdleHint: "no", IdleSinceHint: micros(NOW - 3_600_000), LockedHint: "no", ...overrides });
const ssh = block({ Id: "14", Type: "tty", Remote: "yes", IdleHint: "no", IdleSinceHint: "0", LockedHint: "no" });
const manager = block({ Id: "c1", Type: "unspecified", Remote: "no", IdleHint: "no", IdleSinceHint: "0", LockedHint: "no" });

interface Call {
  file: string;
  args: readonly string[];
}

/** A loginctl that answers from a script; `answers` may change between reads. */
function fakeLoginctl(answers: { list: string; show: string; listExit?: number; showExit?: number } | "missing" | "no-bus") {
  const calls: Call[] = [];
  const state = { answers };
  const runCommand: CommandRunner = async (file, args) => {
    calls.push({ file, args });
    const current = state.answers;
    if (current === "missing") throw Object.assign(new Error("spawn loginctl ENOENT"), { code: "ENOENT" });
    if (current === "no-bus") return { stdout: "", stderr: "Failed to connect to bus: No such file or directory\n", exitCode: 1 };
    if (args[0] === "list-sessions") return { stdout: current.list, stderr: "", exitCode: current.listExit ?? 0 };
    return { stdout: current.show, stderr: "", exitCode: current.showExit ?? 0 };
  };
  return { runCommand, calls, state };
}

function source(loginctl: ReturnType<typeof fakeLoginctl>, platform: NodeJS.Platform = "linux") {
  const time = createFakeTime(NOW);
  const idle = createHeadlessIdleSource({ runCommand: loginctl.runCommand, clock: time.clock, logger: createSilentLogger(), platform });
  return { idle, time };
}

describe("loginctl output parsing", () => {
  it.each([
    ["systemd 252", LIST_252, ["2", "14"]],
    ["systemd 256", LIST_256, ["2", "c1"]],
    ["no sessions", "", []],
  ])("lists session ids (%s)", (_name, stdout, ids) => {
    expect(parseSessionIds(stdout)).toEqual(ids);
  });

  it("reads one block per session", () => {
    expect(parseShowSession(`${desktop({ IdleHint: "yes", LockedHint: "yes" })}\n\n${ssh}\n`)).toEqual([
      { id: "2", type: "wayland", remote: false, idleHint: true, idleSinceMs: NOW - 3_600_000, locked: true },
      { id: "14", type: "tty", remote: true, idleHint: false, idleSinceMs: null, locked: false },
    ]);
  });
});

describe("createHeadlessIdleSource", () => {
  it.each<[string, string, string, { idleSeconds: number; locked: boolean }]>([
    ["an active desktop: not idle", LIST_252, desktop(), { idleSeconds: 0, locked: false }],
    ["an idle desktop: idle since its hint", LIST_252, desktop({ IdleHint: "yes", IdleSinceHint: micros(NOW - 400_000) }), { idleSeconds: 400, locked: false }],
    ["a locked idle desktop", LIST_256, desktop({ IdleHint: "yes", LockedHint: "yes", IdleSinceHint: micros(NOW - 10_000) }), { idleSeconds: 10, locked: true }],
    ["idle with no known start: idle since the source started", LIST_252, desktop({ IdleHint: "yes", IdleSinceHint: "0" }), { idleSeconds: 0, locked: false }],
    ["a local console counts like a desktop", LIST_252, desktop({ Type: "tty", IdleHint: "yes", IdleSinceHint: micros(NOW - 60_000) }), { idleSeconds: 60, locked: false }],
  ])("%s", async (_name, list, show, expected) => {
    const { idle } = source(fakeLoginctl({ list, show: `${show}\n\n${ssh}\n` }));
    expect(await idle.read()).toEqual({ ...expected, suspended: false });
  });

  it("asks loginctl for the sessions, then their hints in one call", async () => {
    const loginctl = fakeLoginctl({ list: LIST_252, show: `${desktop()}\n\n${ssh}` });
    await source(loginctl).idle.read();
    expect(loginctl.calls.map((call) => [call.file, ...call.args].join(" "))).toEqual([
      "loginctl list-sessions --no-legend --no-pager",
      "loginctl show-session 2 14 -p Id -p Type -p Remote -p IdleHint -p IdleSinceHint -p LockedHint --no-pager",
    ]);
  });

  it("takes the most recently used of several desktops, and locked only if all are", async () => {
    const second = block({ Id: "3", Type: "x11", Remote: "no", IdleHint: "yes", IdleSinceHint: micros(NOW - 30_000), LockedHint: "no" });
    const first = desktop({ IdleHint: "yes", IdleSinceHint: micros(NOW - 900_000), LockedHint: "yes" });
    const { idle } = source(fakeLoginctl({ list: "2 1000 a seat0 tty2\n3 1001 b seat0 tty3\n", show: `${first}\n\n${second}` }));
    expect(await idle.read()).toEqual({ idleSeconds: 30, locked: false, suspended: false });
  });

  it.each<[string, Parameters<typeof fakeLoginctl>[0]]>([
    ["only SSH and a service manager", { list: LIST_256, show: `${ssh}\n\n${manager}` }],
    ["no sessions at all", { list: "", show: "" }],
    ["loginctl not installed", "missing"],
    ["loginctl without a system bus (a container)", "no-bus"],
  ])("with %s, the machine is idle for as long as the source has run", async (_name, answers) => {
    const { idle, time } = source(fakeLoginctl(answers));
    expect((await idle.read()).idleSeconds).toBe(0);
    await time.advance(125_000);
    expect(await idle.read()).toEqual({ idleSeconds: 125, locked: false, suspended: false });
  });

  it("counts idle time from the last moment a desktop session was seen (a logout is activity)", async () => {
    const loginctl = fakeLoginctl({ list: LIST_252, show: desktop({ IdleHint: "yes", IdleSinceHint: micros(NOW - 1_000_000) }) });
    const { idle, time } = source(loginctl);
    await time.advance(60_000);
    expect((await idle.read()).idleSeconds).toBe(1060);
    loginctl.state.answers = { list: "", show: "" };
    await time.advance(20_000);
    expect((await idle.read()).idleSeconds).toBe(20);
  });

  it("stops calling loginctl once it is known to be missing", async () => {
    const loginctl = fakeLoginctl("missing");
    const { idle } = source(loginctl);
    await idle.read();
    await idle.read();
    expect(loginctl.calls).toHaveLength(1);
  });

  it("keeps the sessions show-session could report when one vanished in between", async () => {
    const { idle } = source(fakeLoginctl({ list: LIST_252, show: desktop({ IdleHint: "no" }), showExit: 1 }));
    expect((await idle.read()).idleSeconds).toBe(0);
  });

  it("never runs loginctl off Linux", async () => {
    const loginctl = fakeLoginctl({ list: LIST_252, show: desktop() });
    const { idle, time } = source(loginctl, "win32");
    await time.advance(5000);
    expect(await idle.read()).toEqual({ idleSeconds: 5, locked: false, suspended: false });
    expect(loginctl.calls).toHaveLength(0);
  });

  it("has nothing to push, and lets listeners go", () => {
    const { idle } = source(fakeLoginctl({ list: "", show: "" }));
    const unsubscribe = idle.onChange(() => undefined);
    expect(typeof unsubscribe).toBe("function");
    unsubscribe();
    idle.close();
  });
});
