import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { expect, test } from "@playwright/test";
import OpenAI from "openai";

// The main job as a newcomer runs it: `inferswarm demo` (what `npm start` runs without Electron), for a
// bounded time, then stopped with Ctrl-C (SIGINT to the demo alone: it must stop its nodes itself).
// Checked: the OpenAI client gets answers, the dashboard shows the swarm's work, jobs complete, receipts
// are signed by both sides, earnings are in the workers' ledgers, and no node process is left behind.
const repoRoot = path.resolve(import.meta.dirname, "..");

interface DemoReady {
  event: "demo-ready";
  dashboardUrl: string;
  apiUrl: string;
  apiKey: string;
  model: string;
  home: string;
  gatewayPid: number;
  workers: { peerId: string; pid: number; dashboardUrl: string }[];
}
interface DemoFinished {
  event: "demo-finished";
  requests: { sent: number; completed: number; failed: number; throttled: number; completionTokens: number };
  workers: { name: string; receipts: number; countersigned: number; earnedMicro: number; entries: number }[];
  gateway: { spentReceipts: number };
}

let demo: ChildProcess;
const lines: string[] = [];
let ready: DemoReady;
let exited: Promise<number | null>;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  const home = mkdtempSync(path.join(os.tmpdir(), "inferswarm-demo-e2e-"));
  demo = spawn(process.execPath, ["bin/inferswarm.js", "demo", "--workers", "2", "--preset", "tiny", "--home", home, "--progress-seconds", "2", "--json"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  exited = new Promise((resolve) => demo.once("exit", (code) => resolve(code)));
  demo.stderr!.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  const stdout = createInterface({ input: demo.stdout! });
  stdout.on("line", (line) => lines.push(line));
  ready = await new Promise<DemoReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo was not ready within 180 s:\n${lines.join("\n")}`)), 180_000);
    void exited.then((code) => reject(new Error(`the demo exited with ${code} before it was ready:\n${lines.join("\n")}`)));
    stdout.on("line", (line) => {
      if (!line.startsWith('{"event":"demo-ready"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as DemoReady);
    });
  });
});

test.afterAll(() => {
  if (demo.exitCode === null) demo.kill("SIGKILL");
});

test("the demo prints what a newcomer needs and shows progress", async () => {
  const text = () => lines.join("\n");
  expect(text()).toContain("worker-1 joined");
  expect(text()).toContain("worker-2 joined");
  expect(text()).toContain(`Dashboard:  ${ready.dashboardUrl}`);
  expect(text()).toContain(`key ${ready.apiKey}`);
  // Progress lines come every 2 s; wait (bounded) for one that shows answered jobs and receipts.
  await expect.poll(() => lines.find((line) => /\] [1-9]\d* answered, 0 failed .* receipts [1-9]/.test(line)) ?? "", { timeout: 60_000 }).not.toBe("");
});

test("the gateway answers the official openai client", async () => {
  const client = new OpenAI({ baseURL: ready.apiUrl, apiKey: ready.apiKey, maxRetries: 2, timeout: 60_000 });
  const models = await client.models.list();
  expect(models.data.map((m) => m.id)).toContain(ready.model);
  const answer = await client.chat.completions.create({ model: ready.model, messages: [{ role: "user", content: "Say something about the swarm." }], max_tokens: 16, temperature: 0 });
  expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);
  expect(answer.usage!.completion_tokens).toBeGreaterThan(0);
  await expect(new OpenAI({ baseURL: ready.apiUrl, apiKey: "sk-swarm-wrong", maxRetries: 0 }).models.list()).rejects.toMatchObject({ status: 401 });
});

test("a worker's dashboard shows the jobs it served and what it earned", async ({ page }) => {
  await page.goto(ready.workers[0]!.dashboardUrl);
  await page.getByRole("navigation").getByRole("button", { name: "Jobs" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Jobs" })).toBeVisible();
  await expect(page.getByText("answered").first()).toBeVisible({ timeout: 30_000 });
  await page.getByRole("navigation").getByRole("button", { name: "Earnings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Earnings" })).toBeVisible();
  await page.screenshot({ path: path.join(repoRoot, "out", "e2e", "screenshots", "demo-worker-earnings.png"), fullPage: true });
});

test("Ctrl-C stops every node and keeps signed receipts and earnings in the ledgers", async () => {
  test.setTimeout(120_000);
  demo.kill("SIGINT");
  const code = await Promise.race([exited, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 90_000))]);
  expect(code, lines.join("\n")).toBe(130);
  const finishedLine = lines.find((line) => line.startsWith('{"event":"demo-finished"'));
  expect(finishedLine, lines.join("\n")).toBeDefined();
  const finished = JSON.parse(finishedLine!) as DemoFinished;
  expect(finished.requests.completed).toBeGreaterThan(0);
  expect(finished.requests.failed).toBe(0);
  const receipts = finished.workers.reduce((sum, w) => sum + w.receipts, 0);
  // Every answered request was paid (hidden challenges may add a few receipts of their own).
  expect(receipts).toBeGreaterThanOrEqual(finished.requests.completed);
  expect(finished.gateway.spentReceipts).toBe(receipts);
  for (const worker of finished.workers) expect(worker.countersigned, worker.name).toBe(worker.receipts);
  expect(finished.workers.reduce((sum, w) => sum + w.earnedMicro, 0)).toBeGreaterThan(0);
  // No node outlives the demo.
  for (const pid of [ready.gatewayPid, ...ready.workers.map((w) => w.pid)]) expect(() => process.kill(pid, 0), `pid ${pid}`).toThrow();
});
