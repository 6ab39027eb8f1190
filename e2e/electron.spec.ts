import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { _electron, expect, test, type ElectronApplication } from "@playwright/test";
import { dashboardCallNames, trayStateSchema } from "../src-contract/index.js";

// The desktop app itself: Electron's main process, the core in its utilityProcess, the preload and the
// dashboard over app://. Needs an Electron binary, which cannot be downloaded on every machine (see
// ../shared/facts/electron-and-ui.md): without one the spec skips and says why.
const repoRoot = path.resolve(import.meta.dirname, "..");

/**
 * Electron's executable, found without `require("electron")`: that module downloads the binary from
 * GitHub when it is missing, which must not happen inside a test. INFERSWARM_ELECTRON_APP points at a
 * packaged app built with INFERSWARM_E2E_BUILD=1 (its --inspect fuse on, which Playwright needs).
 */
function findElectron(): { executablePath: string; args: string[] } | { missing: string } {
  const packaged = process.env.INFERSWARM_ELECTRON_APP;
  if (packaged) return existsSync(packaged) ? { executablePath: packaged, args: [] } : { missing: `INFERSWARM_ELECTRON_APP=${packaged} does not exist` };
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve("electron/package.json"));
  } catch {
    return { missing: "the electron package is not installed" };
  }
  const pathFile = path.join(packageDir, "path.txt");
  if (!existsSync(pathFile)) return { missing: `Electron's binary was never downloaded (${pathFile} is missing; this machine cannot reach its GitHub download)` };
  const executablePath = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(packageDir, "dist"), readFileSync(pathFile, "utf8").trim());
  if (!existsSync(executablePath)) return { missing: `Electron's binary ${executablePath} is missing` };
  return { executablePath, args: [repoRoot] };
}

const electron = findElectron();

test.describe("the Electron app", () => {
  test.skip("missing" in electron, `No Electron binary: ${"missing" in electron ? electron.missing : ""}. Install it (npx install-electron) or set INFERSWARM_ELECTRON_APP.`);

  let app: ElectronApplication | undefined;
  let home: string;

  test.beforeAll(async () => {
    if ("missing" in electron) return;
    if (electron.args.length > 0) {
      for (const built of ["out/app/main.js", "out/app/core.js", "out/app/preload.cjs", "out/renderer/index.html"]) {
        expect(existsSync(path.join(repoRoot, built)), `${built} is missing: run \`npm run build:renderer && npm run build:app\` first`).toBe(true);
      }
    }
    home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-electron-e2e-"));
    await mkdir(path.join(home, "config"), { recursive: true });
    // The tiny generated model on a recorded RTX 4080 SUPER, contributing always: the tray has a state to show.
    const config = { mdns: false, listen: ["/ip4/127.0.0.1/tcp/0"], threads: 1, replayGpu: "rtx4080super", serve: [{ preset: "tiny" }], policy: { mode: "always" } };
    await writeFile(path.join(home, "config", "node.json"), JSON.stringify(config));
    app = await _electron.launch({
      executablePath: electron.executablePath,
      // A private profile, and no OS keyring prompt on a CI desktop: the key then lives in a 0600 file.
      args: [...electron.args, `--user-data-dir=${path.join(home, "electron")}`, "--password-store=basic"],
      env: { ...process.env, INFERSWARM_HOME: home, INFERSWARM_E2E: "1" },
      timeout: 60_000,
    });
  });

  test.afterAll(async () => {
    await app?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test("opens the dashboard from app:// with exactly the contract's API", async () => {
    const window = await app!.firstWindow();
    await expect.poll(() => window.url()).toBe("app://dashboard/index.html");
    await expect(window.getByRole("navigation")).toBeVisible();
    const names = await window.evaluate(() => Object.keys((globalThis as unknown as { inferswarm: object }).inferswarm).sort());
    expect(names).toEqual([...dashboardCallNames, "subscribe"].sort());
    // The page has no Node: the sandbox holds.
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe("undefined");
  });

  test("the node starts in its utilityProcess and the tray shows its state", async () => {
    const window = await app!.firstWindow();
    const trayOfStatus = () =>
      window.evaluate(async () => {
        const api = (globalThis as unknown as { inferswarm: { getStatus(args: object): Promise<{ tray: string }> } }).inferswarm;
        try {
          return (await api.getStatus({})).tray;
        } catch (error) {
          return (error as Error).message;
        }
      });
    await expect.poll(trayOfStatus, { timeout: 180_000, intervals: [1_000] }).toBe("contributing");
    const tray = await app!.evaluate(() => (globalThis as unknown as { __inferswarmE2E: { tray(): { icon: string; tooltip: string } | undefined } }).__inferswarmE2E.tray());
    expect(trayStateSchema.options).toContain(tray?.icon);
    expect(tray).toMatchObject({ icon: "contributing", tooltip: expect.stringMatching(/^InferSwarm: Contributing/) });
  });
});
