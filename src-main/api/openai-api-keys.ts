import { z } from "zod";
import { bearerToken, createSecretMatcher, loadOrCreateSecretFile } from "./local-http-guards.js";

export const API_KEY_PREFIX = "sk-swarm-";

/** One accepted key; `maxConcurrentRequests` bounds its requests in flight (more get 429). */
export const apiKeyConfigSchema = z
  .object({
    key: z.string().regex(/^[A-Za-z0-9_-]{32,256}$/, "an API key is 32 to 256 characters of A-Z a-z 0-9 _ -"),
    maxConcurrentRequests: z.number().int().min(1).max(10_000).optional(),
    /** Shown in logs instead of the key. */
    label: z.string().max(64).optional(),
  })
  .strict();

export type ApiKeyConfig = z.input<typeof apiKeyConfigSchema>;

export interface ApiKeyState {
  readonly label: string;
  readonly maxConcurrentRequests: number;
  active: number;
}

export interface ApiKeys {
  /** The key an `Authorization: Bearer …` header presents, if it is one of ours. */
  authenticate(authorization: string | undefined): ApiKeyState | undefined;
  /** Takes one of the key's request slots; undefined when all are in use. The release is idempotent. */
  tryAcquire(key: ApiKeyState): (() => void) | undefined;
  /** Requests in flight, over all keys. */
  active(): number;
}

export function createApiKeys(keys: readonly ApiKeyConfig[], defaultMaxConcurrentRequests: number): ApiKeys {
  const parsed = keys.map((key) => apiKeyConfigSchema.parse(key));
  if (parsed.length === 0) throw new RangeError("the OpenAI gateway needs at least one API key");
  const states = new Map<string, ApiKeyState>(
    parsed.map((key, index) => [key.key, { label: key.label ?? `key-${index + 1}`, maxConcurrentRequests: key.maxConcurrentRequests ?? defaultMaxConcurrentRequests, active: 0 }]),
  );
  const match = createSecretMatcher([...states.keys()]);
  return {
    authenticate(authorization) {
      const key = match(bearerToken(authorization));
      return key === undefined ? undefined : states.get(key);
    },
    tryAcquire(key) {
      if (key.active >= key.maxConcurrentRequests) return undefined;
      key.active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        key.active--;
      };
    },
    active: () => [...states.values()].reduce((sum, key) => sum + key.active, 0),
  };
}

/** The node's own key: `sk-swarm-` and 32 random bytes (base64url) in `<dataDir>/api.key`, mode 0600, made on first start. */
export function loadOrCreateApiKey(file: string): Promise<string> {
  return loadOrCreateSecretFile(file, { prefix: API_KEY_PREFIX, what: "API key" });
}
