import { EventEmitter } from "node:events";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createFakeTime, settle } from "../common/index.js";
import {
  createNvidiaSmiLoopTelemetrySource,
  NVIDIA_SMI_LOOP_MAX_LINE_CHARS,
  type LoopChildProcess,
  type NvidiaSmiLoopTelemetrySource,
} from "./nvidia-smi-loop-telemetry.js";
import { NVIDIA_SMI_GPU_QUERY_ARGS } from "./nvidia-smi-telemetry.js";
import type { TelemetryReadResult } from "./telemetry-types.js";
import { FIXTURES_DIR, fixtureText } from "./test-fixtures.js";

const MIB = 1024 * 1024;
const IDLE = fixtureText("nvidia-smi/query-gpu-rtx4080super-idle.csv");
const LOAD = fixtureText("nvidia-smi/query-gpu-rtx4080super-load.csv");
const TWO_GPUS = fixtureText("nvidia-smi/query-gpu-2x-rtx5090.csv");
const LAPTOP_NA = fixtureText("nvidia-smi/query-gpu-laptop-rtx3050ti.csv");
/** min(200, 2000 / 4): the quiet gap that ends a round at the default interval. */
const GAP_MS = 200;

/** A child process double: streams the test writes to, kill() recorded, exit/close emitted on demand. */
class FakeChild extends EventEmitter implements LoopChildProcess {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly kills: string[] = [];
  ended = false;
  /** Whether SIGTERM ends it (a hung driver call would not). */
  constructor(private readonly obeysSigterm = true) {
    super();
  }
  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    this.kills.push(signal);
    if (!this.ended && (signal === "SIGKILL" || this.obeysSigterm)) void this.end(null, signal);
    return true;
  }
  print(text: string) {
    this.stdout.write(text);
  }
  async end(code: number | null, signal: NodeJS.Signals | null = null) {
    if (this.ended) return;
    this.ended = true;
    this.emit("exit", code, signal);
    this.stdout.end();
    this.stderr.end();
    await settle();
    this.emit("close", code, signal);
  }
  async failToStart(code: string) {
    this.ended = true;
    this.emit("error", Object.assign(new Error(`spawn nvidia-smi ${code}`), { code }));
    this.stdout.end();
    this.stderr.end();
    await settle();
    this.emit("close", -2, null);
  }
}

function setup(options: { obeysSigterm?: boolean } = {}) {
  const time = createFakeTime();
  const children: FakeChild[] = [];
  const spawns: { command: string; args: readonly string[] }[] = [];
  const source = createNvidiaSmiLoopTelemetrySource({
    spawnProcess: (command, args) => {
      spawns.push({ command, args });
      const child = new FakeChild(options.obeysSigterm ?? true);
      children.push(child);
      return child;
    },
    clock: time.clock,
    timers: time.timers,
  });
  const read = () => source.read({ signal: new AbortController().signal });
  /** Starts the child with a first read, feeds it `firstRound`, and returns that read's answer. */
  async function startWith(firstRound: string): Promise<TelemetryReadResult> {
    const first = read();
    await settle();
    children.at(-1)!.print(firstRound);
    await time.advance(GAP_MS);
    return first;
  }
  const alive = () => children.filter((child) => !child.ended).length;
  return { time, children, spawns, source, read, startWith, alive };
}

const ok = (result: TelemetryReadResult) => {
  if (result.status !== "ok") throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result;
};

describe("createNvidiaSmiLoopTelemetrySource", () => {
  it("starts one nvidia-smi --loop-ms on the first read and answers later reads from its latest round", async () => {
    const t = setup();
    expect(t.spawns).toEqual([]);
    const first = ok(await t.startWith(IDLE));
    expect(t.spawns).toEqual([{ command: "nvidia-smi", args: [...NVIDIA_SMI_GPU_QUERY_ARGS, "--loop-ms=2000"] }]);
    expect(first.problems).toEqual([]);
    expect(first.gpus.map((g) => [g.id, g.name, g.powerW, g.vramUsedBytes])).toEqual([["0000:01:00.0", "NVIDIA GeForce RTX 4080 SUPER", 26.2, 596 * MIB]]);

    for (const round of [LOAD, IDLE, LOAD]) {
      await t.time.advance(2000 - GAP_MS);
      t.children[0]!.print(round);
      await t.time.advance(GAP_MS);
    }
    const latest = ok(await t.read());
    expect(latest.gpus[0]!.powerW).toBe(84.24);
    expect(latest.gpus[0]!.smClockMHz).toBe(2805);
    expect(t.spawns).toHaveLength(1);
    t.source.close();
  });

  it("groups a 2-GPU machine's rows into one round, ending it when the index restarts or output goes quiet", async () => {
    const t = setup();
    const first = ok(await t.startWith(TWO_GPUS));
    expect(first.gpus.map((g) => [g.id, g.temperatureC])).toEqual([
      ["0000:01:00.0", 43],
      ["0000:02:00.0", 49],
    ]);

    // Two rounds back to back in one chunk: the index going back to 0 closes the first one at once.
    const hotter = TWO_GPUS.replace(", 43, 0, 0,", ", 60, 0, 0,").replace(", 49, 1, 0,", ", 61, 1, 0,");
    const hottest = TWO_GPUS.replace(", 43, 0, 0,", ", 70, 0, 0,").replace(", 49, 1, 0,", ", 71, 1, 0,");
    t.children[0]!.print(hotter + hottest);
    await settle();
    expect(ok(await t.read()).gpus.map((g) => g.temperatureC)).toEqual([60, 61]);
    // The second round has no follower: the quiet gap ends it.
    await t.time.advance(GAP_MS);
    expect(ok(await t.read()).gpus.map((g) => g.temperatureC)).toEqual([70, 71]);

    // Only GPU 0 of a round printed so far: the previous complete round is still the answer.
    t.children[0]!.print(TWO_GPUS.split("\n")[0]! + "\n");
    await settle();
    expect(ok(await t.read()).gpus.map((g) => g.temperatureC)).toEqual([70, 71]);
    t.source.close();
  });

  it("keeps [N/A] as null readings", async () => {
    const t = setup();
    const result = ok(await t.startWith(LAPTOP_NA));
    expect(result.problems).toEqual([]);
    expect(result.gpus[0]).toMatchObject({ name: "NVIDIA GeForce RTX 3050 Ti Laptop GPU", powerW: null, powerLimitW: null, fanPercent: null, temperatureC: 45 });
    t.source.close();
  });

  it("reassembles rows split across chunks, including CRLF endings", async () => {
    const t = setup();
    const first = t.read();
    await settle();
    const text = TWO_GPUS.replace(/\n/g, "\r\n");
    for (const piece of [text.slice(0, 7), text.slice(7, 100), text.slice(100, 181), text.slice(181)]) {
      t.children[0]!.print(piece);
      await t.time.advance(10);
    }
    await t.time.advance(GAP_MS);
    const result = ok(await first);
    expect(result.problems).toEqual([]);
    expect(result.gpus.map((g) => [g.pciBusId, g.fanPercent])).toEqual([
      ["0000:01:00.0", 41],
      ["0000:02:00.0", 31],
    ]);
    t.source.close();
  });

  it("drops an over-long line, even one arriving in many chunks, and reads the rows after it", async () => {
    const t = setup();
    const first = t.read();
    await settle();
    const chunk = "x".repeat(1000);
    for (let i = 0; i < 10; i++) t.children[0]!.print(chunk);
    t.children[0]!.print(`${chunk}\n${IDLE}`);
    await t.time.advance(GAP_MS);
    const result = ok(await first);
    expect(result.problems).toEqual([`nvidia-smi printed a line longer than ${NVIDIA_SMI_LOOP_MAX_LINE_CHARS} characters; it was dropped`]);
    expect(result.gpus.map((g) => g.powerW)).toEqual([26.2]);

    // One over-long line within a single chunk too; the next round is clean again.
    await t.time.advance(2000);
    t.children[0]!.print(`${"y".repeat(NVIDIA_SMI_LOOP_MAX_LINE_CHARS + 1)}\n`);
    await t.time.advance(GAP_MS);
    t.children[0]!.print(LOAD);
    await t.time.advance(GAP_MS);
    expect(ok(await t.read())).toMatchObject({ problems: [], gpus: [{ powerW: 84.24 }] });
    t.source.close();
  });

  it("reports a line that is not a row as a problem of its round", async () => {
    const t = setup();
    const result = ok(await t.startWith(`${IDLE}garbage, line\n`));
    expect(result.gpus).toHaveLength(1);
    expect(result.problems).toEqual(["unexpected nvidia-smi line: garbage, line"]);
    t.source.close();
  });

  it("reports a child that died with its stderr, and restarts it after 1 s, 2 s, 4 s…, resetting after a good round", async () => {
    const t = setup();
    ok(await t.startWith(IDLE));
    t.children[0]!.stderr.write("Unable to determine the device handle for GPU0000:01:00.0: Unknown Error\n");
    await t.children[0]!.end(15);
    expect(await t.read()).toEqual({
      status: "error",
      error: "nvidia-smi exited with code 15: Unable to determine the device handle for GPU0000:01:00.0: Unknown Error",
    });
    expect(t.spawns).toHaveLength(1);

    await t.time.advance(999);
    expect(t.spawns).toHaveLength(1);
    await t.time.advance(1);
    expect(t.spawns).toHaveLength(2);
    // Restarted but nothing printed yet: still the reason of the death.
    expect((await t.read()).status).toBe("error");

    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      await t.children.at(-1)!.end(9);
      const before = t.spawns.length;
      const startedAt = t.time.clock.now();
      while (t.spawns.length === before) await t.time.advance(1000);
      gaps.push(t.time.clock.now() - startedAt);
    }
    expect(gaps).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(t.alive()).toBe(1);

    // A child that completes a round brings the backoff back to 1 s.
    t.children.at(-1)!.print(LOAD);
    await t.time.advance(GAP_MS);
    expect(ok(await t.read()).gpus[0]!.powerW).toBe(84.24);
    await t.children.at(-1)!.end(null, "SIGSEGV");
    expect(await t.read()).toEqual({ status: "error", error: "nvidia-smi was killed by SIGSEGV" });
    const before = t.spawns.length;
    await t.time.advance(1000);
    expect(t.spawns).toHaveLength(before + 1);
    t.source.close();
  });

  it("names the last line the child printed on stdout when it exits without stderr (driver not loaded)", async () => {
    const t = setup();
    const first = t.read();
    await settle();
    t.children[0]!.print(fixtureText("nvidia-smi/driver-not-loaded.stdout.txt"));
    await t.children[0]!.end(9);
    const result = await first;
    expect(result.status).toBe("error");
    expect(result.status === "error" && result.error).toMatch(/^nvidia-smi exited with code 9: NVIDIA-SMI has failed/);
    t.source.close();
  });

  it("is absent when nvidia-smi is not installed (ENOENT), and retries only with backoff", async () => {
    const t = setup();
    const first = t.read();
    await settle();
    await t.children[0]!.failToStart("ENOENT");
    expect(await first).toEqual({ status: "absent" });
    expect(await t.read()).toEqual({ status: "absent" });
    expect(t.spawns).toHaveLength(1);
    await t.time.advance(1000);
    expect(t.spawns).toHaveLength(2);
    t.source.close();
  });

  it("reports other spawn failures as errors", async () => {
    const t = setup();
    const first = t.read();
    await settle();
    await t.children[0]!.failToStart("EACCES");
    expect(await first).toEqual({ status: "error", error: "nvidia-smi could not be run: spawn nvidia-smi EACCES" });
    t.source.close();
  });

  it("reports a round older than 3 intervals as stopped, and stops that child so it restarts", async () => {
    const t = setup();
    ok(await t.startWith(IDLE));
    // The round was completed GAP_MS after it was printed; exactly 3 intervals old is still fine.
    await t.time.advance(6000);
    ok(await t.read());
    await t.time.advance(1);
    expect(await t.read()).toEqual({ status: "error", error: "nvidia-smi stopped reporting (nothing for 6 s); restarting it" });
    expect(t.children[0]!.kills).toEqual(["SIGTERM"]);
    await settle();
    expect(await t.read()).toEqual({ status: "error", error: "nvidia-smi stopped reporting (nothing for 6 s); it was stopped" });
    await t.time.advance(1000);
    expect(t.spawns).toHaveLength(2);
    expect(t.alive()).toBe(1);
    t.source.close();
  });

  it("a first read gives up when the child prints nothing, or when the caller aborts", async () => {
    const t = setup();
    const first = t.read();
    await t.time.advance(6001);
    expect(await first).toEqual({ status: "error", error: "nvidia-smi stopped reporting (nothing for 6 s); restarting it" });
    t.source.close();

    const u = setup();
    const controller = new AbortController();
    const aborted = u.source.read({ signal: controller.signal });
    controller.abort();
    expect(await aborted).toEqual({ status: "error", error: "no output from nvidia-smi yet" });
    u.source.close();
  });

  it("never runs two children, whatever the reads do", async () => {
    const t = setup({ obeysSigterm: false });
    const reads = [t.read(), t.read(), t.read()];
    await settle();
    expect(t.spawns).toHaveLength(1);
    t.children[0]!.print(IDLE);
    await t.time.advance(GAP_MS);
    for (const result of await Promise.all(reads)) ok(result);

    // A hung child that ignores SIGTERM: no second one is started beside it; SIGKILL after 2 s.
    await t.time.advance(7000);
    expect((await t.read()).status).toBe("error");
    expect(t.children[0]!.kills).toEqual(["SIGTERM"]);
    for (let i = 0; i < 5; i++) await t.read();
    expect(t.spawns).toHaveLength(1);
    await t.time.advance(2000);
    expect(t.children[0]!.kills).toEqual(["SIGTERM", "SIGKILL"]);
    await settle();
    expect(t.alive()).toBe(0);
    await t.time.advance(1000);
    expect(t.spawns).toHaveLength(2);
    expect(t.alive()).toBe(1);
    t.source.close();
  });

  it("close() stops the child with SIGTERM, then SIGKILL after 2 s, and prevents restarts", async () => {
    const t = setup({ obeysSigterm: false });
    ok(await t.startWith(IDLE));
    t.source.close();
    expect(t.children[0]!.kills).toEqual(["SIGTERM"]);
    await t.time.advance(1999);
    expect(t.children[0]!.kills).toEqual(["SIGTERM"]);
    await t.time.advance(1);
    expect(t.children[0]!.kills).toEqual(["SIGTERM", "SIGKILL"]);
    await t.time.advance(120_000);
    expect(t.spawns).toHaveLength(1);
    expect(await t.read()).toEqual({ status: "error", error: "the nvidia-smi reader is closed" });
    expect(t.spawns).toHaveLength(1);
    expect(t.time.pendingTimers()).toBe(0);
  });

  it("close() during a restart backoff cancels the restart, and a waiting read returns", async () => {
    const t = setup();
    ok(await t.startWith(IDLE));
    await t.children[0]!.end(1);
    t.source.close();
    await t.time.advance(120_000);
    expect(t.spawns).toHaveLength(1);

    const u = setup();
    const waiting = u.read();
    await settle();
    u.source.close();
    expect(await waiting).toEqual({ status: "error", error: "the nvidia-smi reader is closed" });
    expect(u.children[0]!.kills).toEqual(["SIGTERM"]);
  });
});

describe("createNvidiaSmiLoopTelemetrySource with a real process", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it.skipIf(process.platform === "win32")("spawns a fake nvidia-smi, reads its rounds, and close() ends it", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "fake-nvidia-smi-"));
    const script = path.join(dir, "nvidia-smi");
    const pidFile = path.join(dir, "pid");
    await writeFile(
      script,
      [
        "#!/usr/bin/env node",
        'const fs = require("node:fs");',
        `fs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));`,
        'const loop = process.argv.find((arg) => arg.startsWith("--loop-ms="));',
        'if (!loop || !process.argv.some((arg) => arg.startsWith("--query-gpu=index,"))) { console.error("bad args: " + process.argv.slice(2).join(" ")); process.exit(2); }',
        `const rows = fs.readFileSync(${JSON.stringify(path.join(FIXTURES_DIR, "nvidia-smi/query-gpu-2x-rtx5090.csv"))}, "utf8");`,
        "const print = () => process.stdout.write(rows);",
        "print();",
        'setInterval(print, Number(loop.slice("--loop-ms=".length)));',
        "",
      ].join("\n"),
    );
    await chmod(script, 0o755);

    const source: NvidiaSmiLoopTelemetrySource = createNvidiaSmiLoopTelemetrySource({ command: script, intervalMs: 50 });
    try {
      const first = ok(await source.read({ signal: AbortSignal.timeout(5000) }));
      expect(first.gpus.map((g) => g.pciBusId)).toEqual(["0000:01:00.0", "0000:02:00.0"]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const later = ok(await source.read({ signal: AbortSignal.timeout(5000) }));
      expect(later.problems).toEqual([]);
      expect(later.gpus).toHaveLength(2);
    } finally {
      source.close();
    }

    const pid = Number(await readFile(pidFile, "utf8"));
    const isAlive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && isAlive(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isAlive()).toBe(false);
  });
});
