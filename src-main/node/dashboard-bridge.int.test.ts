import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DashboardApi, DashboardEvent } from "../../src-contract/index.js";
import { createEngine } from "../engine/index.js";
import { ensureSyntheticModel } from "../models/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type NodeProcess, type RunningNode } from "./index.js";
import { dashboardBridgeClient, waitFor } from "./node.test-support.js";

// A real worker process serving the tiny model with its dashboard on, replaying a recorded RTX 4080 SUPER
// for telemetry, and a requester in this process. The dashboard is driven through the same contract
// client the browser uses, over the real HTTP bridge and WebSocket.
let worker: NodeProcess;
let requester: RunningNode;
let api: DashboardApi;
let modelSha256: string;
let promptTokens: number[];
const events: DashboardEvent[] = [];
let unsubscribe: () => void;

async function sendJob() {
  const run = requester.scheduler.runJob({
    type: "request",
    jobId: `job-${Math.random().toString(36).slice(2, 12)}`,
    modelSha256,
    prompt: { tokens: promptTokens, text: "The dashboard shows" },
    sampling: { temperature: 0 },
    maxTokens: 12,
    stop: [],
  });
  for await (const _token of run);
  return run.result;
}

beforeAll(async () => {
  const made = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32", peaky: true });
  modelSha256 = made.sha256;
  const engine = await createEngine({ gpu: false });
  promptTokens = (await engine.loadModel(made.path, { threads: 1 })).tokenizePrompt("The dashboard shows");
  await engine.close();
  worker = await spawnNodeProcess(["--model", "tiny", "--mode", "always", "--threads", "1", "--dashboard-port", "0", "--api-port", "0", "--replay-gpu", "rtx4080super"]);
  expect(worker.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}$/);
  api = dashboardBridgeClient(worker.dashboardUrl!);
  unsubscribe = api.subscribe((event) => events.push(event));
  const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-requester-"));
  requester = await startNode(parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [worker.addresses[0]!], mdns: false, hardware: false }), {
    paths: { configDir: home, dataDir: home },
    schedulerOptions: { maxAttempts: 2 },
  });
  await waitFor(() => requester.adverts.freshAdverts().length >= 1, "the worker's advert");
});

afterAll(async () => {
  unsubscribe?.();
  await requester?.stop();
  await worker?.stop();
});

describe("the headless dashboard of a real node", () => {
  it("reports the node's status, its served model and the owner's mode", async () => {
    const status = await api.getStatus({});
    expect(status.peerId).toBe(worker.peerId);
    expect(status.mode).toBe("always");
    expect(status.tray).toBe("contributing");
    expect(status.models.map((m) => m.sha256)).toEqual([modelSha256]);
    const models = await api.getModels({});
    expect(models.installed[0]).toMatchObject({ sha256: modelSha256, serving: true, fit: { onGpu: false } });
  });

  it("plots telemetry from the recorded GPU, labelled as a recording, with the owner's limits", async () => {
    await waitFor(async () => (await api.getTelemetry({})).samples.some((s) => s.gpus.length > 0), "a telemetry sample");
    const telemetry = await api.getTelemetry({});
    expect(telemetry.source).toBe("fixture");
    expect(telemetry.samples.at(-1)!.gpus[0]).toMatchObject({ name: "NVIDIA GeForce RTX 4080 SUPER", powerLimitW: 320 });
    expect(telemetry.limits.maxTemperatureC).toBe(83);
    await waitFor(() => events.some((e) => e.type === "telemetry"), "a telemetry event over the WebSocket");
  });

  it("lists a finished job and pushes it live", async () => {
    const result = await sendJob();
    expect(result.workerPeerId).toBe(worker.peerId);
    await waitFor(async () => (await api.listJobs({ limit: 10 })).jobs.some((j) => j.state === "answered"), "the answered job");
    const [job] = (await api.listJobs({ limit: 10 })).jobs;
    expect(job).toMatchObject({ state: "answered", generatedTokens: 12, model: expect.any(String) });
    expect(job!.endedAt).toBeGreaterThanOrEqual(job!.startedAt);
    await waitFor(() => events.some((e) => e.type === "job" && e.job.state === "answered"), "the job event");
  });

  it("pausing in the dashboard stops the node admitting jobs, and resuming restores the previous mode", async () => {
    const paused = await api.setPaused({ paused: true });
    expect(paused).toMatchObject({ mode: "paused", resumeMode: "always", tray: "paused" });
    await expect(sendJob()).rejects.toThrow();
    await waitFor(() => events.some((e) => e.type === "status" && e.status.tray === "paused"), "the paused status event");
    const resumed = await api.setPaused({ paused: false });
    expect(resumed).toMatchObject({ mode: "always", tray: "contributing" });
    // The requester saw the paused advert; the next fresh advert brings the worker back.
    await waitFor(async () => (await sendJob().then(() => true, () => false)), "a job accepted after resuming");
  });

  it("shows the node's OpenAI-compatible API address and key in Settings, and that key opens the API", async () => {
    const settings = await api.getSettings({});
    expect(settings.api).toEqual({ url: worker.apiUrl, key: worker.apiKey });
    const authorized = await fetch(`${worker.apiUrl}/models`, { headers: { authorization: `Bearer ${worker.apiKey}` } });
    expect(authorized.status).toBe(200);
    expect(await authorized.json()).toMatchObject({ object: "list" });
    const refused = await fetch(`${worker.apiUrl}/models`, { headers: { authorization: "Bearer sk-swarm-wrong-key-wrong-key-wrong-key-00" } });
    expect(refused.status).toBe(401);
  });

  it("refuses settings out of range with the field named, and keeps the old ones", async () => {
    const error = await api.updateSettings({ policy: { limits: { maxTemperatureC: 500 } } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BAD_SETTINGS", message: expect.stringContaining("maxTemperatureC") });
    expect((await api.getSettings({})).policy.limits.maxTemperatureC).toBe(83);
    const updated = await api.updateSettings({ policy: { limits: { maxTemperatureC: 78 } } });
    expect(updated.policy.limits.maxTemperatureC).toBe(78);
    expect((await api.getTelemetry({})).limits.maxTemperatureC).toBe(78);
  });

  it("shows a finished job's earnings as pending, from the receipt the requester signed, and exports them", async () => {
    const result = await sendJob();
    expect(result.answerTokens).toBeGreaterThan(0);
    // The receipt goes out once the answer is complete; the worker countersigns and stores it.
    await waitFor(async () => (await api.getEarnings({})).totals.today.pending > 0, "the job's pending earnings");
    const earnings = await api.getEarnings({});
    expect(earnings).toMatchObject({ available: true, unit: "credits" });
    expect(earnings.totals.today).toMatchObject({ payable: 0, forfeited: 0 });
    expect(earnings.perModel[0]).toMatchObject({ model: expect.stringContaining("tiny"), jobs: expect.any(Number), tokens: expect.any(Number) });
    const { csv, fileName } = await api.exportEarningsCsv({ days: 7 });
    expect(fileName).toMatch(/\.csv$/);
    expect(csv).toContain(requester.peerId);
    expect(csv.split("\n")[0]).toMatch(/receipt/i);
    // The requester keeps the same receipt as spent, countersigned by the worker.
    await waitFor(() => requester.earnings.ledger.listReceipts({ role: "spent" }).length >= 2, "the requester's spent receipts");
    const [spent] = requester.earnings.ledger.listReceipts({ role: "spent" });
    expect(spent).toMatchObject({ workerPeerId: worker.peerId, requesterPeerId: requester.peerId });
    expect(await requester.earnings.ledger.verify()).toMatchObject({ entries: expect.any(Number) });
  });

  it("shows this node's standing as validators judged it: new, neutral, no verdicts yet", async () => {
    expect(await api.getReputation({})).toEqual({ available: true, score: 0.5, tier: "new", history: [] });
  });
});
