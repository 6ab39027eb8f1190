import { readFile } from "node:fs/promises";
import type { CoreStartParams } from "../../src-contract/core-port.js";
import type { Logger } from "../common/index.js";
import { writeFileAtomic } from "./atomic-file.js";
import { CoreSetupError } from "./core-supervisor.js";

/** The part of Electron's `safeStorage` used here (the async API: the sync one is deprecated in Electron 45). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  /** Linux only: which secret store encrypts; `basic_text` means none (a hard-coded key). */
  getSelectedStorageBackend(): string;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
}

export type KeyringStatus = { available: true; name: string } | { available: false; backend: string };

export const PLAINTEXT_IDENTITY_NOTE = "No OS keyring available (safeStorage backend basic_text): the key is a file readable only by you";

const KEYRING_NAMES: Partial<Record<NodeJS.Platform, string>> = { darwin: "the macOS Keychain", win32: "Windows DPAPI" };

/** Whether safeStorage really encrypts: on Linux without a keyring it "encrypts" with a fixed key. */
export async function keyringStatus(safeStorage: SafeStorageLike, platform: NodeJS.Platform): Promise<KeyringStatus> {
  const backend = platform === "linux" ? safeStorage.getSelectedStorageBackend() : "os";
  if (!(await safeStorage.isAsyncEncryptionAvailable())) return { available: false, backend: platform === "linux" ? backend : "unavailable" };
  if (platform === "linux" && (backend === "basic_text" || backend === "unknown")) return { available: false, backend };
  return { available: true, name: KEYRING_NAMES[platform] ?? `the ${backend.replace("_", " ")} keyring` };
}

const BASE64_KEY = /^[A-Za-z0-9+/]{4,256}={0,2}$/;

/**
 * The identity handshake before each core start. Decision: the key is generated in the core (libp2p's
 * key code stays out of the main process) and handed here as bytes; the shell encrypts it with the OS
 * keyring (safeStorage) into `file` and gives the bytes back to the core on every start. Without a keyring
 * the core keeps its usual 0600 file. A key already encrypted that cannot be decrypted now (keyring locked
 * or gone) is never replaced silently: the owner would lose their peer id and reputation.
 */
export async function prepareIdentity(options: {
  safeStorage: SafeStorageLike;
  platform: NodeJS.Platform;
  /** userData/identity.key.enc */
  file: string;
  /** The core's generator: a fresh key, base64. */
  generate(): Promise<string>;
  logger: Logger;
}): Promise<CoreStartParams> {
  const { safeStorage, file } = options;
  const status = await keyringStatus(safeStorage, options.platform);
  const encrypted = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new CoreSetupError(`Cannot read the node's identity ${file}: ${error.message}.`);
  });

  if (!status.available) {
    if (encrypted) {
      throw new CoreSetupError(
        `The node's identity is encrypted with your OS keyring, which is not available now (safeStorage backend ${status.backend}). Unlock or start your keyring and restart InferSwarm; deleting ${file} creates a new identity (a new peer id).`,
      );
    }
    const note = options.platform === "linux" ? PLAINTEXT_IDENTITY_NOTE : "The OS keyring is not available: the key is a file readable only by you";
    return { privateKey: null, identityStorage: { kind: "plaintext-file", note } };
  }

  const identityStorage = { kind: "os-keyring" as const, note: `Encrypted with ${status.name} in ${file}`.slice(0, 300) };
  if (!encrypted) {
    const privateKey = await options.generate();
    await writeFileAtomic(file, await safeStorage.encryptStringAsync(privateKey), { mode: 0o600 });
    options.logger.info({ file }, "created the node's identity, encrypted with the OS keyring");
    return { privateKey, identityStorage };
  }

  let decrypted: { result: string; shouldReEncrypt: boolean };
  try {
    decrypted = await safeStorage.decryptStringAsync(encrypted);
  } catch (error) {
    throw new CoreSetupError(
      `The OS keyring cannot decrypt the node's identity ${file} (${error instanceof Error ? error.message : String(error)}). If your keyring was reset, delete that file to create a new identity (a new peer id).`,
    );
  }
  if (!BASE64_KEY.test(decrypted.result)) throw new CoreSetupError(`The node's identity ${file} does not hold a key; restore it from a backup or delete it to create a new identity.`);
  if (decrypted.shouldReEncrypt) await writeFileAtomic(file, await safeStorage.encryptStringAsync(decrypted.result), { mode: 0o600 });
  return { privateKey: decrypted.result, identityStorage };
}
