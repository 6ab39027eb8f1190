import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildFakeProcTree } from "./fake-proc-tree.js";
import { createHardwareProbe, type TelemetrySample } from "./index.js";
import { FIXTURES_DIR, fixtureText, scriptedRunner } from "./test-fixtures.js";

describe("createHardwareProbe", () => {
  it("wires nvidia-smi and AMD sysfs into the sampler, the inventory and game detection", async () => {
    const runner = scriptedRunner(({ args }) => {
      if (args.length === 0) return { stdout: fixtureText("nvidia-smi/table-rtx4080super-load.txt"), stderr: "", exitCode: 0 };
      if (args[0]!.startsWith("--query-compute-apps")) return { stdout: fixtureText("nvidia-smi/compute-apps-rtx4080super-load.csv"), stderr: "", exitCode: 0 };
      return { stdout: fixtureText("nvidia-smi/query-gpu-rtx4080super-load.csv"), stderr: "", exitCode: 0 };
    });
    const vm = JSON.parse(fixtureText("systeminformation/vm-2vcpu-no-gpu.json")) as Record<string, unknown>;
    const probe = createHardwareProbe({
      runCommand: runner,
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
  });

  it("uses /proc on Linux when no lister is given", async () => {
    const root = await buildFakeProcTree([{ pid: 77, comm: "dota2" }]);
    const probe = createHardwareProbe({ fsRoot: root, platform: "linux", homeDir: "/home/nobody", runCommand: scriptedRunner(() => ({ stdout: "", stderr: "", exitCode: 0 })) });
    expect((await probe.games.detect()).games).toEqual([{ pid: 77, name: "dota2", reason: "listed-executable", evidence: "dota2" }]);
  });
});
