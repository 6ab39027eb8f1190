import { describe, expect, it } from "vitest";
import { takeBridgeToken, TOKEN_STORAGE_KEY, type TokenEnvironment } from "./bridge-token.js";

const TOKEN = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";

function environment(hash: string, stored: Record<string, string> = {}) {
  const storage = new Map(Object.entries(stored));
  const replaced: string[] = [];
  const env: TokenEnvironment = {
    location: { hash, pathname: "/", search: "" },
    history: { state: null, replaceState: (_state, _title, url) => void replaced.push(String(url)) },
    storage: { getItem: (key) => storage.get(key) ?? null, setItem: (key, value) => void storage.set(key, value) },
  };
  return { env, storage, replaced };
}

describe("takeBridgeToken", () => {
  it("takes the token from #token=, keeps it in session storage and removes it from the address bar", () => {
    const { env, storage, replaced } = environment(`#token=${TOKEN}`);
    expect(takeBridgeToken(env)).toBe(TOKEN);
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe(TOKEN);
    expect(replaced).toEqual(["/"]);
  });

  it("keeps other fragment parameters when it removes the token", () => {
    const { env, replaced } = environment(`#page=thermals&token=${TOKEN}`);
    expect(takeBridgeToken(env)).toBe(TOKEN);
    expect(replaced).toEqual(["/#page=thermals"]);
  });

  it("reads the stored token on a later load of the same tab, without touching the URL", () => {
    const { env, replaced } = environment("", { [TOKEN_STORAGE_KEY]: TOKEN });
    expect(takeBridgeToken(env)).toBe(TOKEN);
    expect(replaced).toEqual([]);
  });

  it("prefers a token in the URL over an older stored one", () => {
    const newer = `${TOKEN}NEW`;
    const { env, storage } = environment(`#token=${newer}`, { [TOKEN_STORAGE_KEY]: TOKEN });
    expect(takeBridgeToken(env)).toBe(newer);
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe(newer);
  });

  it("answers null with no token anywhere, and strips (but ignores) an implausible one", () => {
    expect(takeBridgeToken(environment("").env)).toBeNull();
    const { env, replaced, storage } = environment("#token=short");
    expect(takeBridgeToken(env)).toBeNull();
    expect(replaced).toEqual(["/"]);
    expect(storage.size).toBe(0);
  });

  it("still works when storage throws", () => {
    const { env } = environment(`#token=${TOKEN}`);
    env.storage = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
    };
    expect(takeBridgeToken(env)).toBe(TOKEN);
  });
});
