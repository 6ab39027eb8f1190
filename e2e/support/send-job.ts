// Sends one job into a local swarm and prints one JSON line with what happened. Run as a child process
// (`node --import tsx e2e/support/send-job.ts <bootstrap multiaddr> <preset>`) so the Playwright process
// never loads the native engine or libp2p itself.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createEngine } from "../../src-main/engine/index.js";
import { ensureSyntheticModel, PRESET_NAMES, type PresetName } from "../../src-main/models/index.js";
import { parseNodeConfig, startNode } from "../../src-main/node/index.js";

const [bootstrap, preset = "tiny"] = process.argv.slice(2);
if (!bootstrap || !(PRESET_NAMES as readonly string[]).includes(preset)) {
  console.error("usage: send-job.ts <bootstrap multiaddr with /p2p/> [tiny|small|medium|large]");
  process.exit(2);
}
const made = await ensureSyntheticModel({ preset: preset as PresetName, seed: 1, quantization: "F32", peaky: true });
const engine = await createEngine({ gpu: false });
const promptTokens = (await engine.loadModel(made.path, { threads: 1 })).tokenizePrompt("The dashboard shows");
await engine.close();

const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-e2e-requester-"));
const requester = await startNode(parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [bootstrap], mdns: false, hardware: false, dashboard: { enabled: false } }), {
  paths: { configDir: home, dataDir: home },
  schedulerOptions: { maxAttempts: 1 },
});
let outcome: Record<string, unknown>;
try {
  const deadline = Date.now() + 20_000;
  while (requester.adverts.freshAdverts().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const run = requester.scheduler.runJob({
    type: "request",
    jobId: `e2e-${Math.random().toString(36).slice(2, 12)}`,
    modelSha256: made.sha256,
    prompt: { tokens: promptTokens, text: "The dashboard shows" },
    sampling: { temperature: 0 },
    maxTokens: 16,
    stop: [],
  });
  let tokens = 0;
  for await (const _token of run) tokens++;
  const result = await run.result;
  outcome = { ok: true, tokens, worker: result.workerPeerId };
} catch (error) {
  outcome = { ok: false, code: (error as { code?: string }).code ?? "UNKNOWN", message: (error as Error).message };
} finally {
  await requester.stop();
  await rm(home, { recursive: true, force: true });
}
console.log(JSON.stringify(outcome));
process.exit(0);
