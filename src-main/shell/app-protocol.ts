import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";

/** The dashboard is served from `app://dashboard/…`, never `file://` (which grants pages extra powers). */
export const APP_SCHEME = "app";
export const DASHBOARD_HOST = "dashboard";
export const DASHBOARD_URL = `${APP_SCHEME}://${DASHBOARD_HOST}/index.html`;

/** For `protocol.registerSchemesAsPrivileged`, before the app is ready: a standard, secure origin. */
export const APP_SCHEME_PRIVILEGES = [{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }];

/**
 * The page may load only its own files; it talks to the node through the preload, so it needs no network
 * at all. Inline styles stay allowed because Recharts sets them.
 */
export const SHELL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join("; ");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".txt": "text/plain; charset=utf-8",
};

const SECURITY_HEADERS = {
  "Content-Security-Policy": SHELL_CSP,
  "X-Content-Type-Options": "nosniff",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

const plain = (status: number, text: string) => new Response(text, { status, headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" } });

/**
 * The `app:` protocol handler: files under `rootDir` (the built renderer) and nothing else. A path that
 * decodes to `..`, a backslash, a NUL, or that resolves (symlinks included) outside the root is refused;
 * a path without an extension falls back to index.html so client-side routes survive a reload.
 */
export function createAppProtocolHandler(options: { rootDir: string }): (request: Request) => Promise<Response> {
  const rootDir = path.resolve(options.rootDir);

  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return plain(400, "Bad URL");
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== DASHBOARD_HOST) return plain(404, "Not found");
    if (request.method !== "GET" && request.method !== "HEAD") return plain(405, "Method not allowed");

    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname);
    } catch {
      return plain(400, "Bad path");
    }
    if (relative.includes("\0") || relative.includes("\\") || relative.split("/").some((segment) => segment === "..")) return plain(403, "Forbidden");
    if (relative === "/" || relative === "") relative = "/index.html";

    let file = path.resolve(rootDir, `.${relative}`);
    if (!isInside(rootDir, file)) return plain(403, "Forbidden");
    if (path.extname(file) === "" && !(await isFile(file))) file = path.join(rootDir, "index.html");

    try {
      const [realRoot, real] = await Promise.all([realpath(rootDir), realpath(file)]);
      if (!isInside(realRoot, real)) return plain(403, "Forbidden");
      const body = await readFile(real);
      const headers = { ...SECURITY_HEADERS, "Content-Type": CONTENT_TYPES[path.extname(real).toLowerCase()] ?? "application/octet-stream" };
      return new Response(request.method === "HEAD" ? null : body, { status: 200, headers });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && file === path.join(rootDir, "index.html")) {
        return plain(404, `The dashboard's files are missing from ${rootDir}; build them with \`npm run build:renderer\`, or reinstall InferSwarm.`);
      }
      if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return plain(404, "Not found");
      return plain(500, "Could not read the file");
    }
  };
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}
