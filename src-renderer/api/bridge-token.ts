import { BRIDGE_TOKEN_FRAGMENT } from "../../src-contract/index.js";

/** Where the page keeps the token once it has left the address bar: this tab only, gone when it closes. */
export const TOKEN_STORAGE_KEY = "inferswarm.dashboardToken";

export interface TokenEnvironment {
  location: Pick<Location, "hash" | "pathname" | "search">;
  history: Pick<History, "replaceState" | "state">;
  storage: Pick<Storage, "getItem" | "setItem">;
}

/** The bridge's WebSocket handshake accepts 16–256 characters (bridgeAuthMessageSchema). */
const plausibleToken = (token: string | null): token is string => token !== null && token.length >= 16 && token.length <= 256 && !/\s/.test(token);

/**
 * The bridge token: taken from `#token=…` on first load (the node prints that URL; a fragment never reaches
 * the server), moved to sessionStorage and removed from the visible URL so it is not bookmarked or shared.
 * Later loads of the same tab read it back from storage. null when there is none.
 */
export function takeBridgeToken(env: TokenEnvironment): string | null {
  const fragment = new URLSearchParams(env.location.hash.replace(/^#/, ""));
  if (fragment.has(BRIDGE_TOKEN_FRAGMENT)) {
    const fromUrl = fragment.get(BRIDGE_TOKEN_FRAGMENT);
    fragment.delete(BRIDGE_TOKEN_FRAGMENT);
    const rest = fragment.toString();
    env.history.replaceState(env.history.state, "", `${env.location.pathname}${env.location.search}${rest ? `#${rest}` : ""}`);
    if (plausibleToken(fromUrl)) {
      try {
        env.storage.setItem(TOKEN_STORAGE_KEY, fromUrl);
      } catch {
        // Storage refused (private mode quota): the token still works until this page is reloaded.
      }
      return fromUrl;
    }
  }
  try {
    const stored = env.storage.getItem(TOKEN_STORAGE_KEY);
    return plausibleToken(stored) ? stored : null;
  } catch {
    return null;
  }
}
