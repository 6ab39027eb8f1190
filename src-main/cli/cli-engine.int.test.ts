import { describe, expect, it } from "vitest";
import { runCapturing, startCapturing } from "./cli.test-support.js";

// Commands that load a real (generated) model through node-llama-cpp, with the smallest settings.
describe("inferswarm with the engine", () => {
  it("generate: streams a greedy answer as JSON; an unknown model exits 2 before loading anything", async () => {
    const run = await runCapturing(["generate", "-m", "tiny", "-p", "The swarm", "-n", "8", "--threads", "1", "--json"]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim());
    expect(result.generatedTokenCount).toBeGreaterThan(0);
    expect(result.model).toBe("inferswarm-synthetic-tiny");

    const bad = await runCapturing(["generate", "-m", "nonexistent.gguf", "-p", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("[CLI_MODEL_NOT_FOUND]");
  });

  it("bench: ends with one JSON line of measured tok/s; a bad --runs exits 2", async () => {
    const run = await runCapturing(["bench", "-m", "tiny", "--runs", "1", "--warmup", "0", "--max-tokens", "8", "--threads", "1"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    const report = JSON.parse(lines.at(-1)!);
    expect(report).toMatchObject({ bench: "inferswarm-bench", threads: 1, settings: { runs: 1, maxTokens: 8, threads: 1 } });
    expect(report.decodeTokensPerSecond).toBeGreaterThan(0);
    expect(report.runs).toHaveLength(1);
    expect(run.stderr).toMatch(/bench: inferswarm-synthetic-tiny .* decode [\d.]+ tok\/s median/);

    const bad = await runCapturing(["bench", "--runs", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--runs must be a positive integer");
  });

  it("models fit: plans a preset for this machine (exit 0), and exits 1 when the RAM share cannot hold it", async () => {
    const run = await runCapturing(["models", "fit", "tiny", "--json"]);
    expect(run.code).toBe(0);
    const { plan, hardware } = JSON.parse(run.stdout);
    expect(plan).toMatchObject({ fits: true, contextSize: expect.any(Number) as number });
    expect(typeof hardware.cpuOnly).toBe("boolean");

    const tight = await runCapturing(["models", "fit", "tiny", "--ram-share", "0.000001"]);
    expect(tight.code).toBe(1);
    expect(tight.stdout).toContain("Does not fit");
  });

  it("generate: Ctrl-C (the stop signal) ends it within a decode step with exit 130", async () => {
    const run = startCapturing(["generate", "-m", "tiny", "-p", "The swarm", "-n", "100000", "--threads", "1"]);
    // Bounded: 300 polls of 20 ms for the first streamed text after the prompt.
    for (let i = 0; i < 300 && run.output.stdout.length <= "The swarm".length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await run.stop()).toBe(130);
    expect(run.output.stderr).toContain("[CLI_INTERRUPTED]");
  });
});
