import { describe, expect, it } from "vitest";
import { runCapturing } from "./cli.test-support.js";

// The demo's happy path starts a real swarm: e2e/demo.spec.ts runs `inferswarm demo` as a newcomer would.
describe("inferswarm demo", () => {
  it("says what it does and how to stop it", async () => {
    const run = await runCapturing(["demo", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("local swarm on 127.0.0.1");
    expect(run.stdout).toContain("Ctrl-C");
    expect(run.stdout).toContain("--duration <seconds>");
  });

  it.each([
    [["--workers", "9"], "--workers must be at most 8"],
    [["--workers", "0"], "--workers must be a positive integer"],
    [["--preset", "huge"], "Allowed choices are tiny, small, medium, large"],
    [["--duration", "soon"], "--duration must be a number of seconds above 0"],
    [["--api-port", "70000"], "--api-port must be a port number"],
  ])("refuses %j with exit 2 before starting anything", async (args, message) => {
    const run = await runCapturing(["demo", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).not.toContain("worker-1 joined");
  });
});
