import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, open, readFile } from "node:fs/promises";
import path from "node:path";
import { InferSwarmError } from "../common/index.js";

// What the node's local HTTP servers (the dashboard bridge and the OpenAI-compatible API) share.

/**
 * DNS rebinding: a web page on another origin that resolves its name to 127.0.0.1 must not reach the
 * node. Only the loopback names and the bound host, with the bound port, are accepted.
 */
export function isAllowedHostHeader(hostHeader: string | undefined, host: string, port: number): boolean {
  const bound = host.includes(":") ? `[${host}]` : host;
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${bound}:${port}`].includes(hostHeader ?? "");
}

/** The token of an `Authorization: Bearer <token>` header, if it has that form. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.startsWith("Bearer ") ? authorization.slice(7).trim() : undefined;
}

/**
 * Compares a presented secret with every known one in constant time per candidate, so response timing
 * does not reveal how much of a key was right. Returns the matching secret.
 */
export function createSecretMatcher(secrets: readonly string[]): (candidate: string | undefined) => string | undefined {
  const known = secrets.map((secret) => ({ secret, bytes: Buffer.from(secret) }));
  return (candidate) => {
    if (candidate === undefined) return undefined;
    const given = Buffer.from(candidate);
    let matched: string | undefined;
    for (const { secret, bytes } of known) {
      if (given.length === bytes.length && timingSafeEqual(given, bytes)) matched = secret;
    }
    return matched;
  };
}

const SECRET_FORMAT = /^[A-Za-z0-9_-]{32,256}$/;

/**
 * A random secret (32 bytes, base64url, after `prefix`) kept in a file readable only by the owner (0600),
 * so what the node printed stays valid across restarts. Two processes starting at once agree on one.
 */
export async function loadOrCreateSecretFile(file: string, options: { prefix?: string; what: string }): Promise<string> {
  try {
    const secret = (await readFile(file, "utf8")).trim();
    if (SECRET_FORMAT.test(secret)) return secret;
    throw new InferSwarmError("API_TOKEN_INVALID", `The ${options.what} file ${file} does not hold a valid ${options.what}; delete it to make a new one.`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const secret = `${options.prefix ?? ""}${randomBytes(32).toString("base64url")}`;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, "wx", 0o600).catch(async (error: NodeJS.ErrnoException) => {
    // Another process created it meanwhile: use theirs.
    if (error.code === "EEXIST") return undefined;
    throw error;
  });
  if (!handle) return loadOrCreateSecretFile(file, options);
  try {
    await handle.writeFile(secret);
  } finally {
    await handle.close();
  }
  return secret;
}
