import { describe, expect, it } from "vitest";
import { createRealCommandRunner } from "./command-runner.js";

// The real runner against real programs: node itself stands in for nvidia-smi.
const run = createRealCommandRunner();
const node = process.execPath;
const options = { timeoutMs: 20_000, maxOutputBytes: 64 * 1024 };

describe("createRealCommandRunner", () => {
  it("returns stdout, stderr and a non-zero exit code without throwing, and passes arguments unshelled", async () => {
    const result = await run(node, ["-e", "process.stdout.write(process.argv[1]); process.stderr.write('warn'); process.exit(9)", "a b; echo $HOME"], options);
    expect(result).toEqual({ stdout: "a b; echo $HOME", stderr: "warn", exitCode: 9 });
  });

  it("fails with HARDWARE_COMMAND_NOT_FOUND for a missing program", async () => {
    await expect(run("inferswarm-no-such-program", [], options)).rejects.toMatchObject({ code: "HARDWARE_COMMAND_NOT_FOUND" });
  });

  it("kills a program that outlives its timeout", async () => {
    await expect(run(node, ["-e", "setTimeout(() => {}, 60_000)"], { ...options, timeoutMs: 300 })).rejects.toMatchObject({ code: "HARDWARE_COMMAND_TIMEOUT" });
  });

  it("stops a program that prints more than the bound", async () => {
    await expect(run(node, ["-e", "process.stdout.write('x'.repeat(100000))"], { ...options, maxOutputBytes: 1000 })).rejects.toMatchObject({
      code: "HARDWARE_COMMAND_OUTPUT_TOO_LARGE",
    });
  });

  it("stops a program when its caller aborts", async () => {
    const controller = new AbortController();
    const pending = run(node, ["-e", "setTimeout(() => {}, 60_000)"], { ...options, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "HARDWARE_COMMAND_ABORTED" });
  });
});
