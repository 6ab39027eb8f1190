import { createDashboardApi, type DashboardApi } from "../../src-contract/index.js";

/**
 * The dashboard contract client the browser uses, over a node's HTTP bridge and WebSocket, from the
 * dashboard URL a node prints (`http://host:port/#token=…`). Events are subscribed to only on demand.
 */
export function dashboardBridgeClient(url: string): DashboardApi {
  const { origin, hash } = new URL(url);
  const token = new URLSearchParams(hash.slice(1)).get("token")!;
  return createDashboardApi({
    async call(name, args) {
      const response = await fetch(`${origin}/bridge/v1/call/${name}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(args),
      });
      return response.json();
    },
    subscribe(listener) {
      const socket = new WebSocket(`${origin.replace("http", "ws")}/bridge/v1/events`);
      socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "auth", token })));
      socket.addEventListener("message", (event) => listener(JSON.parse(String(event.data))));
      return () => socket.close();
    },
  });
}

/** Polls `condition` every 100 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
