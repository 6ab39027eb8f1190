import { EventEmitter } from "node:events";
import path from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { buildFakeProcTree } from "./fake-proc-tree.js";
import { createHardwareProbe, type LoopChildProcess, type SpawnProcess, type TelemetrySample } from "./index.js";
import { FIXTURES_DIR, fixtureText, scriptedRunner } from "./test-fixtures.js";

/** A long-running nvidia-smi double that prints one round at once and records its spawns and kills. */
function fakeLoopSpawn(rows: string): SpawnProcess & { spawned: { args: readonly string[]; kills: string[] }[] } {
  const spawned: { args: readonly string[]; kills: string[] }[] = [];
  const spawnProcess: SpawnProcess = (_command, args) => {
    const kills: string[] = [];
    spawned.push({ args, kills });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const child = Object.assign(new EventEmitter(), {
      stdout,
      stderr,
      kill(signal: NodeJS.Signals = "SIGTERM") {
        kills.push(signal);
        child.emit("exit", null, signal);
        stdout.end();
        stderr.end();
        setImmediate(() => child.emit("close", null, signal));
        return true;
      },
    });
    stdout.write(rows);
    return child as LoopChildProcess;
  };
  return Object.assign(spawnProcess, { spawned });
}

describe("createHardwareProbe", () => {
  it("wires nvidia-smi and AMD sysfs into the sampler, the inventory and game detection", async () => {
    const runner = scriptedRunner(({ args }) => {
      if (args.length === 0) return { stdout: fixtureText("nvidia-smi/table-rtx4080super-load.txt"), stderr: "", exitCode: 0 };
      if (args[0]!.startsWith("--query-compute-apps")) return { stdout: fixtureText("nvidia-smi/compute-apps-rtx4080super-load.csv"), stderr: "", exitCode: 0 };
      return { stdout: fixtureText("nvidia-smi/query-gpu-rtx4080super-load.csv"), stderr: "", exitCode: 0 };
    });
    const vm = JSON.parse(fixtureText("systeminformation/vm-2vcpu-no-gpu.json")) as Record<string, unknown>;
    const spawnProcess = fakeLoopSpawn(fixtureText("nvidia-smi/query-gpu-rtx4080super-load.csv"));
    const probe = createHardwareProbe({
      runCommand: runner,
      spawnProcess,
      fsRoot: path.join(FIXTURES_DIR, "sysfs-rx580"),
      platform: "linux",
      homeDir: "/home/gamer",
      processLister: { list: async () => [{ pid: 10, name: "cs2", exe: null, cmdline: [], cwd: null }] },
      systemInformation: { graphics: async () => vm.graphics, cpu: async () => vm.cpu, mem: async () => vm.mem },
      ownPids: [5022],
    });

    // Real file reads, so real timers: wait for the first sample rather than for a time.
    const first = new Promise<TelemetrySample>((resolve) => probe.sampler.subscribe(resolve));
    probe.sampler.start();
    const sample = await first;
    probe.sampler.stop();
    expect(sample.errors).toEqual([]);
    expect(sample.gpus.map((g) => [g.vendor, g.id])).toEqual([
      ["nvidia", "0000:01:00.0"],
      ["amd", "0000:05:00.0"],
    ]);

    const inventory = await probe.detectInventory();
    expect(inventory.gpus.map((g) => [g.vendor, g.vramSource])).toEqual([
      ["nvidia", "nvidia-smi"],
      ["amd", "amd-sysfs"],
    ]);
    expect(inventory.cpuOnly).toBe(true);

    expect(await probe.games.detect()).toEqual({
      gameRunning: true,
      games: [{ pid: 10, name: "cs2", reason: "listed-executable", evidence: "cs2" }],
      otherGpuUsers: [{ pid: 5021, name: "ffmpeg", kind: "compute", vramBytes: 360 * 1024 * 1024 }],
    });

    // Telemetry came from one long-running nvidia-smi, never from a per-read call; close() stops it.
    expect(spawnProcess.spawned).toHaveLength(1);
    expect(spawnProcess.spawned[0]!.args.at(-1)).toBe("--loop-ms=2000");
    expect(runner.calls.filter((call) => call.args[0]?.startsWith("--query-gpu"))).toEqual([]);
    probe.close();
    expect(spawnProcess.spawned[0]!.kills).toEqual(["SIGTERM"]);
    probe.close();
  });

  it("reads nvidia-smi once per sample in one-shot mode", async () => {
    const runner = scriptedRunner(() => ({ stdout: fixtureText("nvidia-smi/query-gpu-rtx4080super-idle.csv"), stderr: "", exitCode: 0 }));
    const spawnProcess = fakeLoopSpawn("");
    const probe = createHardwareProbe({
      runCommand: runner,
      spawnProcess,
      fsRoot: path.join(FIXTURES_DIR, "sysfs-no-gpu"),
      platform: "linux",
      homeDir: "/home/gamer",
      telemetry: { nvidiaSmiMode: "one-shot" },
    });
    const first = new Promise<TelemetrySample>((resolve) => probe.sampler.subscribe(resolve));
    probe.sampler.start();
    const sample = await first;
    probe.close();
    expect(sample.gpus.map((g) => [g.vendor, g.powerW])).toEqual([["nvidia", 26.2]]);
    expect(runner.calls.map((call) => call.args)).toEqual([expect.arrayContaining([expect.stringMatching(/^--query-gpu=/)])]);
    expect(spawnProcess.spawned).toEqual([]);
  });

  it("uses /proc on Linux when no lister is given", async () => {
    const root = await buildFakeProcTree([{ pid: 77, comm: "dota2" }]);
    const probe = createHardwareProbe({ fsRoot: root, platform: "linux", homeDir: "/home/nobody", runCommand: scriptedRunner(() => ({ stdout: "", stderr: "", exitCode: 0 })) });
    expect((await probe.games.detect()).games).toEqual([{ pid: 77, name: "dota2", reason: "listed-executable", evidence: "dota2" }]);
  });
});
