import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCapturing, tempHome } from "./cli.test-support.js";
import { writeNodeRuntime } from "./node-runtime-file.js";

// Refusals that happen before a node starts; the happy paths are in cli-network.int.test.ts.
describe("inferswarm node / gateway: bad input", () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => void (home = tempHome()));
  afterEach(() => home.cleanup());
  const network = ["--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--no-dashboard"];
  const local = [...network, "--no-api"];

  it("refuses to start a second node in a home where one runs (exit 2)", async () => {
    const dataDir = path.join(home.dir, "data");
    mkdirSync(dataDir, { recursive: true });
    // The test runner's parent: a live process that is not this one.
    await writeNodeRuntime(dataDir, { version: 1, role: "node", pid: process.ppid, peerId: "12D3KooWother", startedAt: 0, dashboardOrigin: null, apiUrl: null });
    const run = await runCapturing(["node", "--home", home.dir, ...local]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`A node (pid ${process.ppid}, peer 12D3KooWother) is already running under ${home.dir}`);
    expect(existsSync(path.join(dataDir, "identity.key"))).toBe(false);
  });

  it("says how to fix a missing or malformed swarm key (exit 2)", async () => {
    const missing = await runCapturing(["node", "--home", home.dir, "--swarm-key", path.join(home.dir, "none.key"), ...local]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("inferswarm keygen");
    const malformed = path.join(home.dir, "bad.key");
    writeFileSync(malformed, "hello\n");
    const bad = await runCapturing(["gateway", "--home", home.dir, "-m", "tiny", "--swarm-key", malformed, ...network]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("[SWARM_KEY_INVALID]");
  });

  it("reports an invalid node.json field with the file's name (exit 2)", async () => {
    mkdirSync(path.join(home.dir, "config"), { recursive: true });
    writeFileSync(path.join(home.dir, "config", "node.json"), JSON.stringify({ nat: "yes" }));
    const run = await runCapturing(["node", "--home", home.dir, ...local]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("node.json with the command-line flags is invalid: nat");
  });

  it("refuses a malformed listen or bootstrap address before starting (exit 2)", async () => {
    const listen = await runCapturing(["node", "--home", home.dir, "--listen", "garbage"]);
    expect(listen.code).toBe(2);
    expect(listen.stderr).toContain("--listen must be a multiaddr");
    const bootstrap = await runCapturing(["gateway", "--home", home.dir, "--bootstrap", "/ip4/127.0.0.1/tcp/4001"]);
    expect(bootstrap.code).toBe(2);
    expect(bootstrap.stderr).toContain("--bootstrap must end with /p2p/<peer id>");
  });

  it("--print-config: the file's settings with the flags over them, without starting", async () => {
    mkdirSync(path.join(home.dir, "config"), { recursive: true });
    writeFileSync(path.join(home.dir, "config", "node.json"), JSON.stringify({ serve: [{ preset: "small" }], policy: { mode: "when-idle", idleAfterSeconds: 60 } }));
    const run = await runCapturing(["node", "--home", home.dir, "--mode", "always", "--threads", "1", "--print-config"]);
    expect(run.code).toBe(0);
    const config = JSON.parse(run.stdout);
    expect(config).toMatchObject({ threads: 1, policy: { mode: "always", idleAfterSeconds: 60 }, serve: [{ preset: "small", quantization: "F32" }], dashboard: { port: 7480 } });
    expect(run.stderr).toContain(`config file: ${path.join(home.dir, "config", "node.json")}`);
    expect(existsSync(path.join(home.dir, "data"))).toBe(false);
  });
});
