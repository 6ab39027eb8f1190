import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCapturing, startCapturing, tempHome } from "./cli.test-support.js";

// Real nodes on 127.0.0.1, started through the CLI in this process and stopped as Ctrl-C would.
const LOCAL = ["--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--challenge-minutes", "0", "--ready-json"];

interface Ready {
  event: "ready";
  role: string;
  peerId: string;
  addresses: string[];
  dashboardUrl: string | null;
  apiUrl: string | null;
  apiKey: string | null;
}

async function readyLine(output: { stdout: string; stderr: string }, done: Promise<number>): Promise<Ready> {
  let exited: number | undefined;
  void done.then((code) => (exited = code));
  // Bounded: 600 polls of 100 ms.
  for (let i = 0; i < 600; i++) {
    const line = output.stdout.split("\n").find((l) => l.startsWith('{"event":"ready"'));
    if (line) return JSON.parse(line) as Ready;
    if (exited !== undefined) throw new Error(`exited with ${exited} before it was ready:\n${output.stdout}\n${output.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not ready within 60 s:\n${output.stdout}\n${output.stderr}`);
}

describe("inferswarm node, status and gateway", () => {
  const nodeHome = tempHome();
  const gatewayHome = tempHome();
  let node: ReturnType<typeof startCapturing>;
  let ready: Ready;

  beforeAll(async () => {
    node = startCapturing(["node", "--home", nodeHome.dir, "-m", "tiny", "--threads", "1", "--mode", "always", "--no-hardware", "--dashboard-port", "0", "--api-port", "0", ...LOCAL]);
    ready = await readyLine(node.output, node.done);
  });
  afterAll(async () => {
    await node?.stop();
    nodeHome.cleanup();
    gatewayHome.cleanup();
  });

  it("node: starts, prints its ready line, peer id and URLs, and records where it listens", () => {
    expect(ready.role).toBe("node");
    expect(ready.addresses.some((a) => a.startsWith("/ip4/127.0.0.1/tcp/"))).toBe(true);
    expect(node.output.stdout).toContain(`node: peer id ${ready.peerId}`);
    expect(node.output.stdout).toMatch(/node: serving inferswarm-synthetic-tiny F32/);
    expect(existsSync(path.join(nodeHome.dir, "data", "node-runtime.json"))).toBe(true);
  });

  it("node: a missing config file or a bad port exits 2", async () => {
    const missing = await runCapturing(["node", "--home", nodeHome.dir, "-c", path.join(nodeHome.dir, "nope.json"), ...LOCAL]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("[NODE_CONFIG_UNREADABLE]");
    const badPort = await runCapturing(["node", "--dashboard-port", "70000"]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("--dashboard-port must be a port number");
  });

  it("status: asks the running node and prints peers, models, mode, earnings and reputation", async () => {
    const json = await runCapturing(["status", "--home", nodeHome.dir, "--json"]);
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout);
    expect(answer.status.peerId).toBe(ready.peerId);
    expect(answer.status.mode).toBe("always");
    expect(answer.status.models.map((m: { name: string }) => m.name)).toEqual(["inferswarm-synthetic-tiny"]);
    expect(answer.earnings.available).toBe(true);
    expect(answer.reputation).toHaveProperty("score");

    const human = await runCapturing(["status", "--home", nodeHome.dir]);
    expect(human.stdout).toContain(`node ${ready.peerId}`);
    expect(human.stdout).toMatch(/peers: \d+ connected/);
    expect(human.stdout).toMatch(/earnings \(30 days, credits\): payable 0/);
    expect(human.stdout).toContain("reputation:");
  });

  it("gateway: serves the OpenAI API and routes a completion to the node", async () => {
    const gateway = startCapturing(["gateway", "--home", gatewayHome.dir, "-m", "tiny", "--bootstrap", `${ready.addresses[0]}`, "--api-port", "0", "--no-dashboard", ...LOCAL]);
    try {
      const up = await readyLine(gateway.output, gateway.done);
      expect(up.role).toBe("gateway");
      expect(gateway.output.stdout).toContain("gateway: serving no models (requester only)");
      const headers = { authorization: `Bearer ${up.apiKey}`, "content-type": "application/json" };
      // The model is listed once the node's advert has reached the gateway (bounded: 300 × 100 ms).
      let listed: string[] = [];
      for (let i = 0; i < 300 && listed.length === 0; i++) {
        const models = (await (await fetch(`${up.apiUrl}/models`, { headers })).json()) as { data: { id: string }[] };
        listed = models.data.map((m) => m.id);
        if (listed.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(listed).toEqual(["inferswarm-synthetic-tiny"]);
      const response = await fetch(`${up.apiUrl}/completions`, { method: "POST", headers, body: JSON.stringify({ model: listed[0], prompt: "The swarm", max_tokens: 4, temperature: 0 }) });
      expect(response.status).toBe(200);
      const completion = (await response.json()) as { choices: { text: string }[]; usage: { completion_tokens: number } };
      expect(completion.usage.completion_tokens).toBeGreaterThan(0);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
    expect(gateway.output.stdout).toContain("gateway: stopped");
    expect(existsSync(path.join(gatewayHome.dir, "data", "node-runtime.json"))).toBe(false);
  });

  it("gateway: without any model to offer exits 2 saying how to give one", async () => {
    const run = await runCapturing(["gateway", "--home", gatewayHome.dir, ...LOCAL]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("[CLI_GATEWAY_NO_MODELS]");
    expect(run.stderr).toContain("--model");
  });

  it("node: stops cleanly with exit 0 and removes its runtime file", async () => {
    expect(await node.stop()).toBe(0);
    expect(node.output.stdout).toContain("node: stopped");
    expect(existsSync(path.join(nodeHome.dir, "data", "node-runtime.json"))).toBe(false);
    const after = await runCapturing(["status", "--home", nodeHome.dir]);
    expect(after.code).toBe(1);
  });
});
