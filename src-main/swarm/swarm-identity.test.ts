import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { isInferSwarmError } from "../common/index.js";
import { generateIdentityBytes, identityFromBytes, loadOrCreateIdentity } from "./swarm-identity.js";
import { generateSwarmKey, parseSwarmKey } from "./swarm-key.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "inferswarm-identity-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("node identity file", () => {
  it("creates an Ed25519 key with mode 0600 and loads the same peer id again", async () => {
    const file = path.join(dir, "nested", "identity.key");
    const created = await loadOrCreateIdentity(file);
    expect(created.type).toBe("Ed25519");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const loaded = await loadOrCreateIdentity(file);
    expect(peerIdFromPrivateKey(loaded).toString()).toBe(peerIdFromPrivateKey(created).toString());
  });

  it.skipIf(process.platform === "win32")("refuses a key file others can read", async () => {
    const file = path.join(dir, "open.key");
    await loadOrCreateIdentity(file);
    await chmod(file, 0o644);
    const error = await loadOrCreateIdentity(file).catch((e: unknown) => e);
    expect(isInferSwarmError(error, "SWARM_IDENTITY_INVALID")).toBe(true);
    expect((error as Error).message).toContain("chmod 600");
  });

  it("refuses a file that does not hold a key", async () => {
    const file = path.join(dir, "garbage.key");
    await writeFile(file, "not a key at all", { mode: 0o600 });
    expect(isInferSwarmError(await loadOrCreateIdentity(file).catch((e: unknown) => e), "SWARM_IDENTITY_INVALID")).toBe(true);
    const sized = path.join(dir, "sized.key");
    await writeFile(sized, new Uint8Array(68).fill(7), { mode: 0o600 });
    expect(isInferSwarmError(await loadOrCreateIdentity(sized).catch((e: unknown) => e), "SWARM_IDENTITY_INVALID")).toBe(true);
  });
});

describe("identity as bytes (kept in the OS keyring by the desktop app)", () => {
  it("round-trips a generated key and refuses bytes that are not one, naming where they came from", async () => {
    const bytes = await generateIdentityBytes();
    const key = identityFromBytes(bytes, "the keyring");
    expect(peerIdFromPrivateKey(identityFromBytes(bytes, "the keyring")).equals(peerIdFromPrivateKey(key))).toBe(true);
    const error = (() => {
      try {
        return identityFromBytes(bytes.subarray(1), "the keyring");
      } catch (e) {
        return e;
      }
    })();
    expect(isInferSwarmError(error, "SWARM_IDENTITY_INVALID")).toBe(true);
    expect((error as Error).message).toContain("the keyring");
  });
});

describe("swarm key", () => {
  it("round-trips the standard /key/swarm/psk/1.0.0/ format", () => {
    const text = generateSwarmKey();
    expect(text.split("\n").slice(0, 2)).toEqual(["/key/swarm/psk/1.0.0/", "/base16/"]);
    const bytes = parseSwarmKey(text);
    expect(new TextDecoder().decode(bytes)).toBe(text.trim());
    // CRLF and upper-case hex (as other tools write them) parse to the same key.
    expect(parseSwarmKey(text.toUpperCase().replace("/KEY/SWARM/PSK/1.0.0/", "/key/swarm/psk/1.0.0/").replace("/BASE16/", "/base16/").replaceAll("\n", "\r\n"))).toEqual(bytes);
    expect(parseSwarmKey(generateSwarmKey())).not.toEqual(bytes);
  });

  it("refuses malformed keys with a clear error", () => {
    const good = generateSwarmKey();
    for (const bad of ["", good.replace("/base16/", "/base64/"), good.replace("/key/swarm/psk/1.0.0/", "/key/other/"), good.slice(0, -10), good.replace(/[0-9a-f]\n?$/, "z")]) {
      let error: unknown;
      try {
        parseSwarmKey(bad);
      } catch (e) {
        error = e;
      }
      expect(isInferSwarmError(error, "SWARM_KEY_INVALID")).toBe(true);
    }
  });
});
