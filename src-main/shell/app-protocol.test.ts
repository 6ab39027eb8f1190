import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_SCHEME_PRIVILEGES, createAppProtocolHandler, DASHBOARD_URL, SHELL_CSP } from "./app-protocol.js";

let dir: string;
let root: string;
let handler: (request: Request) => Promise<Response>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "inferswarm-app-protocol-"));
  root = path.join(dir, "renderer");
  await mkdir(path.join(root, "assets"), { recursive: true });
  await writeFile(path.join(root, "index.html"), "<!doctype html><title>dash</title>");
  await writeFile(path.join(root, "assets", "app.js"), "console.log(1)");
  await writeFile(path.join(dir, "secret.txt"), "the owner's secret");
  await symlink(path.join(dir, "secret.txt"), path.join(root, "assets", "link.txt"));
  handler = createAppProtocolHandler({ rootDir: root });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const get = (url: string, method = "GET") => handler(new Request(url, { method }));

describe("the app:// protocol", () => {
  it("is registered as a standard, secure scheme", () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual([{ scheme: "app", privileges: expect.objectContaining({ standard: true, secure: true }) }]);
  });

  it("serves the dashboard's files with their type and a strict CSP", async () => {
    const page = await get(DASHBOARD_URL);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>dash</title>");
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toBe(SHELL_CSP);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const script = await get("app://dashboard/assets/app.js");
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("content-security-policy")).toBe(SHELL_CSP);
  });

  it("keeps the CSP strict: no remote scripts, no eval, no frames, no plugins", () => {
    expect(SHELL_CSP).toContain("default-src 'none'");
    expect(SHELL_CSP).toContain("script-src 'self'");
    expect(SHELL_CSP).not.toContain("unsafe-eval");
    expect(SHELL_CSP).toContain("object-src 'none'");
    expect(SHELL_CSP).toContain("frame-ancestors 'none'");
    expect(SHELL_CSP).not.toMatch(/https?:/);
  });

  it("serves index.html for / and for extensionless client routes", async () => {
    expect(await (await get("app://dashboard/")).text()).toContain("dash");
    expect(await (await get("app://dashboard/settings")).text()).toContain("dash");
  });

  it.each([
    "app://dashboard/..%2fsecret.txt",
    "app://dashboard/assets/..%2f..%2fsecret.txt",
    "app://dashboard/%2e%2e%2fsecret.txt",
    "app://dashboard/..%5csecret.txt",
    "app://dashboard/assets%5c..%5c..%5csecret.txt",
    "app://dashboard/index.html%00.js",
  ])("refuses a path that leaves the renderer folder: %s", async (url) => {
    const response = await get(url);
    expect([400, 403, 404]).toContain(response.status);
    expect(await response.text()).not.toContain("secret");
    expect(response.headers.get("content-security-policy")).toBe(SHELL_CSP);
  });

  it("refuses a symlink that points outside the renderer folder", async () => {
    const response = await get("app://dashboard/assets/link.txt");
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain("secret");
  });

  it("answers only its own host, only reads, and 404 for what is missing", async () => {
    expect((await get("app://other/index.html")).status).toBe(404);
    expect((await get(DASHBOARD_URL, "POST")).status).toBe(405);
    expect((await get("app://dashboard/missing.js")).status).toBe(404);
  });

  it("says how to build the dashboard when its files are missing", async () => {
    const empty = createAppProtocolHandler({ rootDir: path.join(dir, "not-built") });
    const response = await empty(new Request(DASHBOARD_URL));
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("npm run build:renderer");
  });
});
