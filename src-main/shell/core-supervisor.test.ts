import { describe, expect, it, vi } from "vitest";
import { CORE_PORT_PROTOCOL, mainToCoreMessageSchema, type CoreStartParams, type MainToCoreMessage } from "../../src-contract/core-port.js";
import { createFakeTime, createSilentLogger, settle } from "../common/index.js";
import { createCoreSupervisor, CoreSetupError, type CoreChild, type CoreState, type CoreSupervisorOptions } from "./core-supervisor.js";

type Behaviour = (message: MainToCoreMessage, child: FakeCoreChild) => void;

/** A core that answers like the real one unless told otherwise. */
class FakeCoreChild implements CoreChild {
  received: MainToCoreMessage[] = [];
  killed = false;
  private messageListener: ((message: unknown) => void) | undefined;
  private exitListener: ((code: number) => void) | undefined;
  constructor(private behaviour: Behaviour) {}
  postMessage(message: unknown) {
    const parsed = mainToCoreMessageSchema.parse(message);
    this.received.push(parsed);
    queueMicrotask(() => this.behaviour(parsed, this));
  }
  onMessage(listener: (message: unknown) => void) {
    this.messageListener = listener;
    queueMicrotask(() => listener({ type: "ready", protocol: CORE_PORT_PROTOCOL }));
  }
  onExit(listener: (code: number) => void) {
    this.exitListener = listener;
  }
  kill() {
    this.killed = true;
    this.exit(-9);
  }
  send(message: unknown) {
    this.messageListener?.(message);
  }
  exit(code: number) {
    const listener = this.exitListener;
    this.exitListener = undefined;
    listener?.(code);
  }
  respond(id: number, value: unknown) {
    this.send({ type: "response", id, outcome: { ok: true, value } });
  }
}

const healthy: Behaviour = (message, child) => {
  if (message.type !== "request") return;
  if (message.method === "start") child.respond(message.id, { peerId: "12D3KooWpeer" });
  if (message.method === "call") child.respond(message.id, { called: message.name });
  if (message.method === "generateIdentity") child.respond(message.id, { privateKey: "AAAA" });
  if (message.method === "stop") {
    child.respond(message.id, {});
    queueMicrotask(() => child.exit(0));
  }
};

const startParams: CoreStartParams = { privateKey: null, identityStorage: { kind: "plaintext-file", note: "file" } };

function setup(behaviours: Behaviour[] = [healthy], overrides: Partial<CoreSupervisorOptions> = {}) {
  const time = createFakeTime();
  const children: FakeCoreChild[] = [];
  const events: unknown[] = [];
  const states: CoreState[] = [];
  const supervisor = createCoreSupervisor({
    fork: () => {
      const child = new FakeCoreChild(behaviours[Math.min(children.length, behaviours.length - 1)]!);
      children.push(child);
      return child;
    },
    prepareStart: async () => startParams,
    onEvent: (event) => events.push(event),
    timers: time.timers,
    clock: time.clock,
    logger: createSilentLogger(),
    backoff: { initialMs: 1_000, maxMs: 8_000, maxRestarts: 4, stableAfterMs: 60_000 },
    ...overrides,
  });
  supervisor.onState((state) => states.push(state));
  return { time, children, events, states, supervisor };
}

describe("the core supervisor", () => {
  it("forks the core, starts it once it is ready, then relays calls", async () => {
    const { supervisor, children } = setup();
    supervisor.start();
    await settle();
    expect(supervisor.state()).toEqual({ kind: "running", peerId: "12D3KooWpeer" });
    expect(children[0]!.received[0]).toMatchObject({ type: "request", method: "start", params: startParams });
    expect(await supervisor.call("getStatus", {})).toEqual({ ok: true, value: { called: "getStatus" } });
  });

  it("answers calls with a clear error while the core is starting", async () => {
    const { supervisor } = setup([() => {}]);
    supervisor.start();
    expect(await supervisor.call("getStatus", {})).toMatchObject({ ok: false, error: { code: "CORE_STARTING" } });
  });

  it("restarts a crashed core with doubling delays, and gives up after the bound", async () => {
    const crashOnStart: Behaviour = (message, child) => {
      if (message.type === "request" && message.method === "start") child.exit(134);
    };
    const { supervisor, time, children, states } = setup([crashOnStart]);
    supervisor.start();
    await settle();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const state = supervisor.state();
      expect(state.kind).toBe("restarting");
      if (state.kind === "restarting") {
        expect(state.reason).toContain("exit code 134");
        delays.push(state.restartInMs);
        await time.advance(state.restartInMs - 1);
        expect(children).toHaveLength(i + 1);
        await time.advance(1);
      }
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(children).toHaveLength(5);
    expect(supervisor.state()).toMatchObject({ kind: "failed", reason: expect.stringContaining("gave up after 4 restarts") });
    await time.advance(120_000);
    expect(children).toHaveLength(5);
    expect(states.filter((s) => s.kind === "starting")).toHaveLength(5);
  });

  it("fails calls waiting on a core that dies, and refuses new ones until it is back", async () => {
    const hangOnCall: Behaviour = (message, child) => {
      if (message.type === "request" && message.method !== "call") healthy(message, child);
    };
    const { supervisor, children } = setup([hangOnCall, healthy]);
    supervisor.start();
    await settle();
    const waiting = supervisor.call("getStatus", {});
    children[0]!.exit(9);
    expect(await waiting).toMatchObject({ ok: false, error: { code: "CORE_UNAVAILABLE", message: expect.stringContaining("exit code 9") } });
    expect(await supervisor.call("getStatus", {})).toMatchObject({ ok: false, error: { code: "CORE_RESTARTING" } });
  });

  it("starts the backoff over after the core ran long enough to count as healthy", async () => {
    const { supervisor, time, children } = setup();
    supervisor.start();
    await settle();
    children[0]!.exit(1);
    expect(supervisor.state()).toMatchObject({ kind: "restarting", restartInMs: 1_000 });
    await time.advance(1_000);
    expect(supervisor.state().kind).toBe("running");
    children[1]!.exit(1);
    expect(supervisor.state()).toMatchObject({ kind: "restarting", restartInMs: 2_000 });
    await time.advance(2_000);
    await time.advance(60_000);
    children[2]!.exit(1);
    expect(supervisor.state()).toMatchObject({ kind: "restarting", restartInMs: 1_000 });
  });

  it("kills and retries a core whose start fails, with the core's reason", async () => {
    const refuse: Behaviour = (message, child) => {
      if (message.type === "request" && message.method === "start") {
        child.send({ type: "response", id: message.id, outcome: { ok: false, error: { code: "NODE_CONFIG_INVALID", message: "node.json is invalid" } } });
      }
    };
    const { supervisor, children } = setup([refuse, healthy]);
    supervisor.start();
    await settle();
    expect(children[0]!.killed).toBe(true);
    expect(supervisor.state()).toMatchObject({ kind: "restarting", reason: "The node could not start: node.json is invalid" });
  });

  it("does not restart when the shell's own setup fails (the keyring)", async () => {
    const { supervisor, time, children } = setup([healthy], {
      prepareStart: async () => {
        throw new CoreSetupError("identity.key.enc cannot be decrypted");
      },
    });
    supervisor.start();
    await settle();
    await time.advance(120_000);
    expect(children).toHaveLength(1);
    expect(supervisor.state()).toEqual({ kind: "failed", reason: "identity.key.enc cannot be decrypted" });
    expect(await supervisor.call("getStatus", {})).toMatchObject({ ok: false, error: { code: "CORE_FAILED" } });
  });

  it("can be restarted by the owner after giving up", async () => {
    const { supervisor, children } = setup([healthy], {
      prepareStart: vi.fn().mockRejectedValueOnce(new CoreSetupError("no keyring")).mockResolvedValue(startParams),
    });
    supervisor.start();
    await settle();
    expect(supervisor.state().kind).toBe("failed");
    supervisor.restart();
    await settle();
    expect(supervisor.state().kind).toBe("running");
    expect(children).toHaveLength(2);
  });

  it("hands the identity handshake the core's generator", async () => {
    const prepareStart = vi.fn(async (core: { generateIdentity(): Promise<string> }) => ({ ...startParams, privateKey: await core.generateIdentity() }));
    const { supervisor, children } = setup([healthy], { prepareStart });
    supervisor.start();
    await settle();
    expect(children[0]!.received.map((m) => (m.type === "request" ? m.method : m.type))).toEqual(["generateIdentity", "start"]);
    expect(children[0]!.received[1]).toMatchObject({ params: { privateKey: "AAAA" } });
  });

  it("forwards the running core's events and sends idle readings, also to a restarted core", async () => {
    const { supervisor, children, events, time } = setup();
    supervisor.sendIdle({ idleSeconds: 30, locked: false, suspended: false });
    supervisor.start();
    await settle();
    expect(children[0]!.received[0]).toEqual({ type: "idle", reading: { idleSeconds: 30, locked: false, suspended: false } });
    const event = { type: "status", status: { bad: true } };
    children[0]!.send({ type: "event", event });
    expect(events).toEqual([]); // a malformed event is dropped
    supervisor.sendIdle({ idleSeconds: 31, locked: true, suspended: false });
    expect(children[0]!.received.at(-1)).toEqual({ type: "idle", reading: { idleSeconds: 31, locked: true, suspended: false } });
    children[0]!.exit(1);
    await time.advance(1_000);
    expect(children[1]!.received[0]).toEqual({ type: "idle", reading: { idleSeconds: 31, locked: true, suspended: false } });
  });

  it("stops the node cleanly, and kills a core that does not exit in time", async () => {
    const { supervisor, children } = setup();
    supervisor.start();
    await settle();
    await supervisor.stop();
    expect(children[0]!.received.at(-1)).toMatchObject({ method: "stop" });
    expect(children[0]!.killed).toBe(false);
    expect(supervisor.state()).toEqual({ kind: "stopped" });

    const stubborn: Behaviour = (message, child) => {
      if (message.type === "request" && message.method === "stop") child.respond(message.id, {});
      else healthy(message, child);
    };
    const second = setup([stubborn]);
    second.supervisor.start();
    await settle();
    const stopped = second.supervisor.stop();
    await second.time.advance(5_000);
    await stopped;
    expect(second.children[0]!.killed).toBe(true);
    expect(second.supervisor.state()).toEqual({ kind: "stopped" });
  });
});
