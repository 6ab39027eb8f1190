import { mkdir, open, stat } from "node:fs/promises";
import path from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { SwarmError } from "./swarm-errors.js";

/** An Ed25519 private key in libp2p's protobuf encoding is exactly this long. */
const ED25519_PROTOBUF_BYTES = 68;

/**
 * The node's persistent identity (its peer id, and the key that signs adverts and receipts). The file
 * holds the protobuf-encoded private key and must be readable by the owner only: a wider mode is
 * refused rather than silently fixed, because the key may already have leaked.
 */
export async function loadOrCreateIdentity(file: string): Promise<PrivateKey> {
  const bytes = await readIdentityFileBytes(file);
  return bytes === undefined ? createIdentity(file) : decodeIdentity(bytes, file);
}

/**
 * An identity file's key bytes, checked (a regular file, mode 0600, an Ed25519 key), or undefined when there
 * is none. The desktop app uses it to move a key created before a keyring was available into the keyring.
 */
export async function readIdentityFileBytes(file: string): Promise<Uint8Array | undefined> {
  const existing = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (existing === undefined) return undefined;
  if (!existing.isFile()) {
    throw new SwarmError("SWARM_IDENTITY_INVALID", `The identity path ${file} is not a file; remove it or point the node at another identity file.`, { retryable: false });
  }
  if (process.platform !== "win32" && (existing.mode & 0o077) !== 0) {
    throw new SwarmError(
      "SWARM_IDENTITY_INVALID",
      `The identity file ${file} is readable by others (mode ${(existing.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\`, or delete it to create a new identity.`,
      { retryable: false },
    );
  }
  const handle = await open(file, "r");
  let bytes: Buffer;
  try {
    // Read at most one byte more than a key, so a huge file is not loaded to be rejected.
    bytes = Buffer.alloc(ED25519_PROTOBUF_BYTES + 1);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
    bytes = bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  decodeIdentity(bytes, file);
  return bytes;
}

/**
 * The identity as bytes and back, for a key kept elsewhere than a 0600 file: the desktop app encrypts it
 * with the OS keyring (Electron's safeStorage) in the main process and hands the bytes to the core.
 */
export async function generateIdentityBytes(): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair("Ed25519"));
}
export function identityFromBytes(bytes: Uint8Array, origin: string): PrivateKey {
  return decodeIdentity(bytes, origin);
}

function decodeIdentity(bytes: Uint8Array, file: string): PrivateKey {
  const invalid = (detail: string, cause?: unknown) =>
    new SwarmError("SWARM_IDENTITY_INVALID", `The identity file ${file} ${detail}; restore it from a backup, or delete it to create a new identity (a new peer id).`, {
      retryable: false,
      cause,
    });
  if (bytes.length !== ED25519_PROTOBUF_BYTES) throw invalid(`is ${bytes.length > ED25519_PROTOBUF_BYTES ? "longer" : "shorter"} than an Ed25519 key`);
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (error) {
    throw invalid("does not hold a libp2p private key", error);
  }
  if (key.type !== "Ed25519") throw invalid(`holds a ${key.type} key, not Ed25519`);
  return key;
}

async function createIdentity(file: string): Promise<PrivateKey> {
  const key = await generateKeyPair("Ed25519");
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // "wx": never overwrite an identity another process created meanwhile; mode applies at creation.
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.writeFile(privateKeyToProtobuf(key));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return key;
}
