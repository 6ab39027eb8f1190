import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCapturing, tempHome } from "./cli.test-support.js";
import { writeNodeRuntime } from "./node-runtime-file.js";

// The happy path (a real node answering) is in cli-network.int.test.ts.
describe("inferswarm status without a running node", () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => void (home = tempHome()));
  afterEach(() => home.cleanup());

  it("exits 1 saying no node runs there and how to start one", async () => {
    const run = await runCapturing(["status", "--home", home.dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no node is running under ${home.dir}; start one with \`inferswarm node --home ${home.dir}\``);
    expect(run.stdout).toBe("");
  });

  it("treats a runtime file left by a dead process as no node", async () => {
    const dataDir = path.join(home.dir, "data");
    mkdirSync(dataDir, { recursive: true });
    // Far above any pid Linux hands out (pid_max ≤ 2^22).
    await writeNodeRuntime(dataDir, { version: 1, role: "node", pid: 2 ** 30, peerId: "12D3KooWdead", startedAt: 0, dashboardOrigin: "http://127.0.0.1:1", apiUrl: null });
    const run = await runCapturing(["status", "--home", home.dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no node is running under");
  });

  it("exits 1 when the node runs without a dashboard, and 2 on a bad --timeout", async () => {
    const dataDir = path.join(home.dir, "data");
    mkdirSync(dataDir, { recursive: true });
    await writeNodeRuntime(dataDir, { version: 1, role: "gateway", pid: process.pid, peerId: "12D3KooWlive", startedAt: 0, dashboardOrigin: null, apiUrl: null });
    const run = await runCapturing(["status", "--home", home.dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("runs without its dashboard");
    const bad = await runCapturing(["status", "--home", home.dir, "--timeout", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--timeout must be a positive integer");
  });
});
