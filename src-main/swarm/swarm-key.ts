import { randomBytes } from "node:crypto";
import { fromString as uint8ArrayFromString } from "uint8arrays/from-string";
import { toString as uint8ArrayToString } from "uint8arrays/to-string";
import { SwarmError } from "./swarm-errors.js";

const SWARM_KEY_HEADER = "/key/swarm/psk/1.0.0/";
const SWARM_KEY_ENCODING = "/base16/";
const SWARM_KEY_BYTES = 32;

/** A new pre-shared swarm key in the standard `/key/swarm/psk/1.0.0/` file format (as go-ipfs/kubo writes it). */
export function generateSwarmKey(): string {
  return `${SWARM_KEY_HEADER}\n${SWARM_KEY_ENCODING}\n${uint8ArrayToString(randomBytes(SWARM_KEY_BYTES), "base16")}\n`;
}

/**
 * Checks a swarm key file's text and returns the bytes `@libp2p/pnet` expects (the whole normalised
 * file). Fails with a clear error instead of letting pnet reject connections later for an obscure reason.
 */
export function parseSwarmKey(text: string | Uint8Array): Uint8Array {
  const raw = typeof text === "string" ? text : uint8ArrayToString(text);
  const invalid = (detail: string) =>
    new SwarmError("SWARM_KEY_INVALID", `The swarm key ${detail}; it must be three lines: ${SWARM_KEY_HEADER}, ${SWARM_KEY_ENCODING}, and 64 hex digits. Ask the swarm's owner for the key file.`, {
      retryable: false,
    });
  if (raw.length > 1024) throw invalid("file is far too long");
  const lines = raw.split(/\r\n|\r|\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  if (lines.length !== 3) throw invalid(`has ${lines.length} non-empty lines`);
  if (lines[0] !== SWARM_KEY_HEADER) throw invalid(`starts with "${lines[0]!.slice(0, 40)}"`);
  if (lines[1] !== SWARM_KEY_ENCODING) throw invalid(`uses encoding "${lines[1]!.slice(0, 40)}" (only base16 is supported)`);
  const hex = lines[2]!.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw invalid("value is not 64 hex digits");
  return uint8ArrayFromString(`${SWARM_KEY_HEADER}\n${SWARM_KEY_ENCODING}\n${hex}`);
}
