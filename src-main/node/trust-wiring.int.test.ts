import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DashboardApi } from "../../src-contract/index.js";
import { createSilentLogger } from "../common/index.js";
import { createEngine } from "../engine/index.js";
import { ensureSyntheticModel } from "../models/index.js";
import type { JobRunResult } from "../scheduler/index.js";
import { createJobTransport, type JobRequest } from "../swarm/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type NodeProcess, type RunningNode } from "./index.js";
import { dashboardBridgeClient, waitFor } from "./node.test-support.js";

// Trust and earnings as every node runs them (start-node.ts → node-trust.ts, node-earnings.ts): two honest
// `inferswarm node` processes and one cheater (random tokens under the honest model's hash), all serving
// the tiny model, and a requester in this process that verifies every answer. A cheater's answer is failed
// by a quorum of the honest validators and forfeited in its own ledger; honest answers are routed away
// from it, verified by the other honest worker, and held in the answering worker's ledger (a new node).
const maxTokens = 12;
const prompts = ["The swarm answers questions about the weather", "Every node in the network keeps a ledger", "A validator scores the answer", "Receipts are signed twice"];
let modelSha256: string;
let promptTokens: number[][];
let honest: NodeProcess[] = [];
let cheater: NodeProcess;
let requester: RunningNode;
const dashboards = new Map<string, DashboardApi>();
/** Jobs of test 2, by the honest worker that answered them. */
const answeredBy = new Map<string, string[]>();

const newJobId = (label: string) => `${label}-${Math.random().toString(36).slice(2, 12)}`;
const honestIds = () => honest.map((w) => w.peerId);
const verificationPasses = (history: { kind: string; verdict: string; detail: string }[], jobId: string) =>
  history.filter((entry) => entry.kind === "verification" && entry.verdict === "pass" && entry.detail.includes(jobId));

beforeAll(async () => {
  const made = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32", peaky: true });
  modelSha256 = made.sha256;
  const engine = await createEngine({ gpu: false });
  const model = await engine.loadModel(made.path, { threads: 1 });
  promptTokens = prompts.map((p) => model.tokenizePrompt(p));
  await engine.close();

  // Each worker joins through the ones before it, so every worker knows the others.
  const common = ["--model", "tiny", "--mode", "always", "--threads", "1", "--dashboard-port", "0"];
  const bootstrapTo = (workers: NodeProcess[]) => workers.flatMap((w) => ["--bootstrap", w.addresses[0]!]);
  const first = await spawnNodeProcess(common);
  const second = await spawnNodeProcess([...common, ...bootstrapTo([first])]);
  honest = [first, second];
  cheater = await spawnNodeProcess([...common, ...bootstrapTo(honest)], { entry: "cheating-node", env: { INFERSWARM_CHEAT: "random" } });
  for (const worker of [...honest, cheater]) dashboards.set(worker.peerId, dashboardBridgeClient(worker.dashboardUrl!));

  const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-requester-"));
  requester = await startNode(
    parseNodeConfig({
      listen: ["/ip4/127.0.0.1/tcp/0"],
      bootstrap: [...honest, cheater].map((w) => w.addresses[0]!),
      mdns: false,
      hardware: false,
      trust: { verifyFraction: 1, suspiciousVerifyFraction: 1, challengeEveryMinutes: 0 },
    }),
    { paths: { configDir: home, dataDir: home } },
  );
  const expected = new Set([...honestIds(), cheater.peerId]);
  await waitFor(() => new Set(requester.adverts.freshAdverts().filter((a) => a.models.some((m) => m.sha256 === modelSha256)).map((a) => a.peerId)).size === expected.size, "three fresh adverts");
}, 240_000);

afterAll(async () => {
  await requester?.stop();
  await Promise.all([...honest, cheater].filter(Boolean).map((w) => w.stop()));
});

describe("trust and earnings wired into every node", () => {
  it("a cheater's answer is failed by the honest validators, forfeited in its ledger, and the cheater is distrusted", async () => {
    const request: JobRequest = {
      type: "request",
      jobId: newJobId("cheat"),
      modelSha256,
      prompt: { tokens: promptTokens[0]! },
      sampling: { temperature: 0 },
      maxTokens,
      stop: [],
      resumeTokens: [],
    };
    const startedAt = Date.now();
    const tokens: number[] = [];
    const texts: string[] = [];
    let end: { finishReason: "eos" | "length" | "stop"; promptTokens: number; answerTokens: number } | undefined;
    const transport = createJobTransport(requester.swarm.libp2p, { logger: createSilentLogger() });
    for await (const frame of transport.openJob(cheater.peerId, request, {})) {
      if (frame.type === "tokens") {
        tokens.push(...frame.ids);
        texts.push(...frame.texts);
      }
      if (frame.type === "end") end = frame;
    }
    expect(end).toBeDefined();
    expect(tokens).toHaveLength(maxTokens);
    const result: JobRunResult = {
      attempts: [{ peerId: cheater.peerId, outcome: "completed", tokensReceived: tokens.length, hedge: false, firstIndex: 0, startedAt, finishedAt: Date.now() }],
      workerPeerId: cheater.peerId,
      tokens,
      text: texts.join(""),
      finishReason: end!.finishReason,
      promptTokens: end!.promptTokens,
      answerTokens: end!.answerTokens,
    };

    const paid = await requester.earnings.payForJob(request, result);
    expect(paid.map((r) => r.body.workerPeerId)).toEqual([cheater.peerId]);
    const outcome = await requester.trust.jobAnswered(request, result);

    expect(outcome?.verdict).toBe("fail");
    expect(outcome!.blamed).toContain(cheater.peerId);
    const voters = outcome!.votes.map((vote) => vote.validatorPeerId);
    expect(voters).not.toContain(cheater.peerId);
    expect(new Set(voters)).toEqual(new Set(honestIds()));
    expect(outcome!.votes.every((vote) => vote.verdict === "fail")).toBe(true);

    const { reputation } = requester.trust;
    expect(reputation.tier(cheater.peerId)).toBe("distrusted");
    for (const peerId of honestIds()) expect(reputation.score(cheater.peerId)).toBeLessThan(reputation.score(peerId));
    expect(requester.earnings.ledger.getReceipt(`${request.jobId}:${cheater.peerId}`)?.record).toMatchObject({ role: "spent", verdict: "fail" });

    // The verdict reached the cheater's own ledger and standing.
    const cheaterDashboard = dashboards.get(cheater.peerId)!;
    await waitFor(async () => (await cheaterDashboard.getEarnings({})).totals.today.forfeited > 0, "the cheater's forfeited earnings");
    const standing = await cheaterDashboard.getReputation({});
    expect(standing.history.some((entry) => entry.kind === "verification" && entry.verdict === "fail" && entry.detail.includes(request.jobId))).toBe(true);
  }, 120_000);

  it("ordinary jobs go to honest workers, are verified by the other honest worker, and are held while the worker is new", async () => {
    const jobIds: string[] = [];
    for (const [index, tokens] of promptTokens.entries()) {
      const jobId = newJobId(`job${index}`);
      jobIds.push(jobId);
      const run = requester.scheduler.runJob({ type: "request", jobId, modelSha256, prompt: { tokens }, sampling: { temperature: 0 }, maxTokens, stop: [] });
      for await (const _token of run);
      const result = await run.result;
      expect(honestIds()).toContain(result.workerPeerId);
      answeredBy.set(result.workerPeerId, [...(answeredBy.get(result.workerPeerId) ?? []), jobId]);
      // Verification runs after the answer; waiting for it keeps the one validator free for the next job's.
      await waitFor(() => verificationPasses(requester.trust.reputation.view(result.workerPeerId).history, jobId).length > 0, `the requester's verification pass of ${jobId}`, 60_000);
    }

    for (const [workerPeerId, jobs] of answeredBy) {
      const validator = honestIds().find((peerId) => peerId !== workerPeerId)!;
      const dashboard = dashboards.get(workerPeerId)!;
      await waitFor(async () => {
        const { history } = await dashboard.getReputation({});
        return jobs.every((jobId) => verificationPasses(history, jobId).length > 0);
      }, `the verification passes on ${workerPeerId}'s dashboard`);
      const { history } = await dashboard.getReputation({});
      for (const jobId of jobs) expect(verificationPasses(history, jobId)[0]!.detail).toContain(`checked by ${validator.slice(-8)}`);
      await waitFor(async () => (await dashboard.getEarnings({})).totals.today.held > 0, `${workerPeerId}'s held earnings`);
      expect((await dashboard.getEarnings({})).totals.today.forfeited).toBe(0);
    }

    const spent = requester.earnings.ledger.listReceipts({ role: "spent" });
    for (const jobId of jobIds) {
      const receipt = spent.find((r) => r.jobId === jobId);
      expect(receipt).toMatchObject({ role: "spent", requesterPeerId: requester.peerId, verdict: "pass" });
      expect(honestIds()).toContain(receipt!.workerPeerId);
    }
    expect(requester.trust.reputation.tier(cheater.peerId)).toBe("distrusted");
  }, 240_000);

  it("the requester's ledger chain is intact after all of it", async () => {
    const report = await requester.earnings.ledger.verify();
    expect(report.repaired).toBe(false);
    expect(report.receipts).toBe(prompts.length + 1);
    expect(report.attestations).toBeGreaterThanOrEqual(prompts.length + 2);
  });
});
