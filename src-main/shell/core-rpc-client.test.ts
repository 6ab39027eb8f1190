import { describe, expect, it } from "vitest";
import type { MainToCoreMessage } from "../../src-contract/core-port.js";
import { createFakeTime } from "../common/index.js";
import { createCoreRpcClient, type CoreRpcError } from "./core-rpc-client.js";

function setup(maxInFlight = 3) {
  const time = createFakeTime();
  const sent: MainToCoreMessage[] = [];
  const client = createCoreRpcClient({ post: (m) => sent.push(m), timers: time.timers, maxInFlight, timeoutMs: { call: 1_000 } });
  const idOf = (i: number) => (sent[i] as { id: number }).id;
  return { time, sent, client, idOf };
}

async function rejection(promise: Promise<unknown>): Promise<CoreRpcError> {
  try {
    await promise;
  } catch (error) {
    return error as CoreRpcError;
  }
  throw new Error("expected a rejection");
}

describe("the core RPC client", () => {
  it("numbers requests and resolves each with its own answer, whatever the order", async () => {
    const { sent, client, idOf } = setup();
    const a = client.call("getStatus", {});
    const b = client.call("listJobs", { limit: 5 });
    expect(sent).toEqual([
      { type: "request", id: 1, method: "call", name: "getStatus", args: {} },
      { type: "request", id: 2, method: "call", name: "listJobs", args: { limit: 5 } },
    ]);
    client.handleResponse({ type: "response", id: idOf(1), outcome: { ok: true, value: "jobs" } });
    client.handleResponse({ type: "response", id: idOf(0), outcome: { ok: true, value: "status" } });
    expect(await a).toBe("status");
    expect(await b).toBe("jobs");
    expect(client.inFlight()).toBe(0);
  });

  it("turns an error answer into its code and message", async () => {
    const { client, idOf } = setup();
    const call = client.call("exportEarningsCsv", { days: 7 });
    client.handleResponse({ type: "response", id: idOf(0), outcome: { ok: false, error: { code: "LEDGER_UNAVAILABLE", message: "no ledger" } } });
    expect(await rejection(call)).toMatchObject({ code: "LEDGER_UNAVAILABLE", message: "no ledger" });
  });

  it("gives up on a request after its deadline and ignores the late answer", async () => {
    const { time, client, idOf } = setup();
    const call = client.call("getStatus", {});
    const failed = rejection(call);
    await time.advance(1_000);
    expect(await failed).toMatchObject({ code: "CORE_TIMEOUT" });
    expect(client.inFlight()).toBe(0);
    client.handleResponse({ type: "response", id: idOf(0), outcome: { ok: true, value: "late" } });
    expect(client.inFlight()).toBe(0);
  });

  it("gives a slow start far longer than a call", async () => {
    const { time, client, idOf } = setup();
    const start = client.start({ privateKey: null, identityStorage: { kind: "plaintext-file", note: "n" } });
    await time.advance(60_000);
    client.handleResponse({ type: "response", id: idOf(0), outcome: { ok: true, value: { peerId: "12D3KooW" } } });
    expect(await start).toEqual({ peerId: "12D3KooW" });
  });

  it("refuses requests beyond the in-flight bound without sending them", async () => {
    const { sent, client } = setup(2);
    void client.call("getStatus", {}).catch(() => {});
    void client.call("getStatus", {}).catch(() => {});
    expect(await rejection(client.call("getStatus", {}))).toMatchObject({ code: "CORE_BUSY" });
    expect(sent).toHaveLength(2);
  });

  it("validates what each method answers", async () => {
    const { client, idOf } = setup();
    const identity = client.generateIdentity();
    client.handleResponse({ type: "response", id: idOf(0), outcome: { ok: true, value: { privateKey: "not base64!" } } });
    expect(await rejection(identity)).toMatchObject({ code: "CORE_BAD_RESPONSE" });
  });

  it("fails everything waiting, and everything after, once closed", async () => {
    const { client } = setup();
    const waiting = rejection(client.call("getStatus", {}));
    client.close("CORE_UNAVAILABLE", "The node stopped unexpectedly (exit code 9).");
    expect(await waiting).toMatchObject({ code: "CORE_UNAVAILABLE" });
    expect(await rejection(client.call("getStatus", {}))).toMatchObject({ code: "CORE_UNAVAILABLE" });
    expect(client.inFlight()).toBe(0);
  });
});
