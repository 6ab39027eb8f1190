import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { expect, test, type ConsoleMessage, type Page } from "@playwright/test";
import { spawnNodeProcess, type NodeProcess } from "../src-main/node/index.js";

// The headless dashboard in Debian's Chromium against a real node process: it serves the tiny generated
// model, replays a recorded RTX 4080 SUPER for telemetry, and serves the built renderer and the bridge.
// Jobs come from a requester in a child process (e2e/support/send-job.ts).
const repoRoot = path.resolve(import.meta.dirname, "..");
const screenshots = path.join(repoRoot, "out", "e2e", "screenshots");
const PANELS = ["Overview", "Earnings", "Thermals", "Reputation", "Jobs", "Models", "Settings"] as const;

let worker: NodeProcess;
const problems: string[] = [];

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  worker = await spawnNodeProcess(["--model", "tiny", "--mode", "always", "--threads", "1", "--dashboard-port", "0", "--replay-gpu", "rtx4080super"]);
});

test.afterAll(async () => {
  await worker?.stop();
});

function watchConsole(page: Page) {
  page.on("console", (message: ConsoleMessage) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
}

/** Sends one job through the swarm from a separate requester process; resolves with its JSON outcome. */
function sendJob(): Promise<{ ok: boolean; tokens?: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "e2e/support/send-job.ts", worker.addresses[0]!, "tiny"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").at(-1);
      if (code !== 0 || !line) return reject(new Error(`send-job exited with ${code}: ${stderr}`));
      resolve(JSON.parse(line) as { ok: boolean; tokens?: number; code?: string });
    });
  });
}

async function openPanel(page: Page, name: (typeof PANELS)[number]) {
  await page.getByRole("navigation").getByRole("button", { name }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
}

test("the dashboard loads with no console error and shows every panel", async ({ page }) => {
  watchConsole(page);
  await page.goto(worker.dashboardUrl!);
  await expect(page.getByText("Contributing", { exact: false }).first()).toBeVisible();
  // The token moved from the address bar into session storage.
  expect(page.url()).not.toContain("token=");
  for (const panel of PANELS) {
    await openPanel(page, panel);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(screenshots, `${panel.toLowerCase()}.png`), fullPage: true });
  }
  expect(problems).toEqual([]);
});

test("thermals plot the recorded GPU's telemetry with the owner's limits", async ({ page }) => {
  watchConsole(page);
  await page.goto(worker.dashboardUrl!);
  await openPanel(page, "Thermals");
  await expect(page.getByText("NVIDIA GeForce RTX 4080 SUPER").first()).toBeVisible();
  await expect(page.getByText(/recorded/i).first()).toBeVisible();
  // Recharts draws each series as a path in an SVG; the limit as a reference line.
  await expect(page.locator(".recharts-line-curve").first()).toBeVisible();
  await expect(page.locator(".recharts-reference-line").first()).toBeAttached();
  await page.screenshot({ path: path.join(screenshots, "thermals-live.png"), fullPage: true });
  expect(problems).toEqual([]);
});

test("a job appears live, and pausing in the UI stops the node admitting the next one", async ({ page }) => {
  watchConsole(page);
  await page.goto(worker.dashboardUrl!);
  await openPanel(page, "Jobs");
  const answered = await sendJob();
  expect(answered).toMatchObject({ ok: true, tokens: 16 });
  await expect(page.getByRole("row").filter({ hasText: "answered" }).first()).toBeVisible();

  // The requester signed a receipt for the answer; the worker countersigned it: pending earnings today.
  await openPanel(page, "Earnings");
  const today = page.getByRole("row", { name: /^Today/ });
  await expect(async () => {
    await page.getByRole("navigation").getByRole("button", { name: "Jobs" }).click();
    await openPanel(page, "Earnings");
    const pendingCell = today.getByRole("cell").first();
    expect(Number((await pendingCell.textContent())?.replace(/[^\d.]/g, ""))).toBeGreaterThan(0);
  }).toPass({ timeout: 20_000 });
  await page.screenshot({ path: path.join(screenshots, "earnings-after-job.png"), fullPage: true });

  await openPanel(page, "Overview");
  const pause = page.getByRole("switch", { name: /pause/i });
  await expect(pause).toHaveAttribute("aria-checked", "false");
  await pause.click();
  await expect(pause).toHaveAttribute("aria-checked", "true");
  await expect(page.getByText("Paused", { exact: false }).first()).toBeVisible();
  const refused = await sendJob();
  expect(refused.ok).toBe(false);
  await page.screenshot({ path: path.join(screenshots, "overview-paused.png"), fullPage: true });

  await pause.click();
  await expect(pause).toHaveAttribute("aria-checked", "false");
  expect(problems).toEqual([]);
});
