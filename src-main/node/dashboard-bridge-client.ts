import { createDashboardApi, type DashboardApi } from "../../src-contract/index.js";

/** The largest answer a call may have: a CSV export of many receipts (the contract allows 20 MB of text). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * The dashboard contract client the browser uses, over a node's HTTP bridge and WebSocket, from the
 * dashboard URL a node prints (`http://host:port/#token=…`). The demo, `inferswarm status` and tests use
 * it to ask a running node. Events are subscribed to only on demand. Each call gives up after `timeoutMs`.
 */
export function dashboardBridgeClient(url: string, options: { timeoutMs?: number } = {}): DashboardApi {
  const { origin, hash } = new URL(url);
  const token = new URLSearchParams(hash.slice(1)).get("token");
  if (!token) throw new TypeError(`The dashboard URL ${origin} has no #token=…; use the full URL the node printed.`);
  return createDashboardApi({
    async call(name, args) {
      const response = await fetch(`${origin}/bridge/v1/call/${name}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(args),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      return JSON.parse(await readBounded(response, MAX_RESPONSE_BYTES));
    },
    subscribe(listener) {
      const socket = new WebSocket(`${origin.replace("http", "ws")}/bridge/v1/events`);
      socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "auth", token })));
      socket.addEventListener("message", (event) => listener(JSON.parse(String(event.data))));
      return () => socket.close();
    },
  });
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new RangeError(`The node's dashboard answered more than ${maxBytes} bytes; is something else listening on that port?`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
