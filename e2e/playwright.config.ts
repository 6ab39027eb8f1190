import { defineConfig } from "@playwright/test";

// Browser tests in Debian's Chromium (Playwright cannot download its own browsers here; see
// ../shared/facts/electron-and-ui.md). One worker: each spec starts real node processes, and the machine
// has two cores.
export default defineConfig({
  testDir: ".",
  testMatch: /.*\.spec\.ts$/,
  workers: 1,
  fullyParallel: false,
  timeout: 180_000,
  expect: { timeout: 20_000 },
  reporter: [["list"]],
  outputDir: "../out/e2e/results",
  use: {
    viewport: { width: 1280, height: 860 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
});
