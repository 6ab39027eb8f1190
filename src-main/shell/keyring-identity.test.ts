import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { SafeStorage } from "electron";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { CoreSetupError } from "./core-supervisor.js";
import { keyringStatus, PLAINTEXT_IDENTITY_NOTE, prepareIdentity, type SafeStorageLike } from "./keyring-identity.js";

const KEY = Buffer.alloc(68, 5).toString("base64");

/** "Encrypts" by reversing and tagging, so a test can tell ciphertext from the key. */
function fakeSafeStorage(overrides: Partial<SafeStorageLike> & { backend?: string } = {}): SafeStorageLike {
  return {
    isAsyncEncryptionAvailable: async () => true,
    getSelectedStorageBackend: () => overrides.backend ?? "gnome_libsecret",
    encryptStringAsync: vi.fn(async (text: string) => Buffer.from(`enc:${[...text].reverse().join("")}`)),
    decryptStringAsync: vi.fn(async (data: Buffer) => {
      const text = data.toString();
      if (!text.startsWith("enc:")) throw new Error("Error while decrypting the ciphertext provided to safeStorage.decryptString.");
      return { result: [...text.slice(4)].reverse().join(""), shouldReEncrypt: false };
    }),
    ...overrides,
  };
}

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "inferswarm-identity-"));
  file = path.join(dir, "userData", "identity.key.enc");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const prepare = (safeStorage: SafeStorageLike, platform: NodeJS.Platform = "linux", generate = vi.fn(async () => KEY)) =>
  prepareIdentity({ safeStorage, platform, file, generate, logger: createSilentLogger() });

describe("the identity key and the OS keyring", () => {
  it("accepts Electron's safeStorage", () => {
    expectTypeOf<SafeStorage>().toExtend<SafeStorageLike>();
  });

  it("treats Linux's basic_text backend as no keyring", async () => {
    expect(await keyringStatus(fakeSafeStorage({ backend: "basic_text" }), "linux")).toEqual({ available: false, backend: "basic_text" });
    expect(await keyringStatus(fakeSafeStorage({ backend: "kwallet6" }), "linux")).toMatchObject({ available: true });
    expect(await keyringStatus(fakeSafeStorage({ isAsyncEncryptionAvailable: async () => false }), "darwin")).toMatchObject({ available: false });
    expect(await keyringStatus(fakeSafeStorage(), "darwin")).toEqual({ available: true, name: "the macOS Keychain" });
  });

  it("has the core generate a key, keeps it encrypted (0600, atomically), and hands it to the core", async () => {
    const safeStorage = fakeSafeStorage();
    const generate = vi.fn(async () => KEY);
    const params = await prepare(safeStorage, "linux", generate);
    expect(generate).toHaveBeenCalledTimes(1);
    expect(params).toEqual({ privateKey: KEY, identityStorage: { kind: "os-keyring", note: expect.stringContaining(file) } });
    const stored = await readFile(file, "utf8");
    expect(stored.startsWith("enc:")).toBe(true);
    expect(stored).not.toContain(KEY);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(path.dirname(file))).toEqual(["identity.key.enc"]);
  });

  it("gives the same key on the next start without generating another", async () => {
    const safeStorage = fakeSafeStorage();
    await prepare(safeStorage);
    const generate = vi.fn(async () => "OTHER");
    expect((await prepare(safeStorage, "linux", generate)).privateKey).toBe(KEY);
    expect(generate).not.toHaveBeenCalled();
  });

  it("re-encrypts when the keyring asks for it", async () => {
    const safeStorage = fakeSafeStorage();
    await prepare(safeStorage);
    vi.mocked(safeStorage.decryptStringAsync).mockResolvedValueOnce({ result: KEY, shouldReEncrypt: true });
    await prepare(safeStorage);
    expect(safeStorage.encryptStringAsync).toHaveBeenCalledTimes(2);
  });

  it("leaves the key to the core's 0600 file when there is no keyring, saying so", async () => {
    const generate = vi.fn(async () => KEY);
    expect(await prepare(fakeSafeStorage({ backend: "basic_text" }), "linux", generate)).toEqual({
      privateKey: null,
      identityStorage: { kind: "plaintext-file", note: PLAINTEXT_IDENTITY_NOTE },
    });
    expect(generate).not.toHaveBeenCalled();
    expect(await readdir(dir)).toEqual([]);
  });

  it("never replaces an encrypted key it cannot read: the owner would lose their peer id", async () => {
    await prepare(fakeSafeStorage());
    await expect(prepare(fakeSafeStorage({ backend: "basic_text" }))).rejects.toBeInstanceOf(CoreSetupError);
    await writeFile(file, "garbage");
    const generate = vi.fn(async () => KEY);
    await expect(prepare(fakeSafeStorage(), "linux", generate)).rejects.toThrow(/cannot decrypt/);
    expect(generate).not.toHaveBeenCalled();
    expect(await readFile(file, "utf8")).toBe("garbage");
  });
});
