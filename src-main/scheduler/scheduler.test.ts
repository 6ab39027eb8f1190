import { describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { JOB_LIMITS, SwarmError } from "../swarm/index.js";
import type { WorkerOutcome } from "./job-run.js";
import { DEFAULT_BACKOFF } from "./peer-backoff.js";
import { createScheduler, type SchedulerOptions } from "./scheduler.js";
import type { WorkerCandidate } from "./scheduler-ports.js";
import {
  advertFor,
  answerIds,
  answerText,
  closingWorker,
  createFakeTime,
  createScriptedTransport,
  drain,
  erroringWorker,
  fixedLatencies,
  fixedReputation,
  goodWorker,
  jobRequest,
  keepaliveOnlyWorker,
  settle,
  stallingWorker,
  staticCandidates,
  unreachableWorker,
  wrongIndexWorker,
  type WorkerScript,
} from "./scheduler.test-support.js";
import type { StreamedToken } from "./job-run.js";

interface Setup {
  workers: Record<string, WorkerScript | WorkerScript[]>;
  /** Peer order of preference: latencies 10, 20, 30 ms… in this order (default: the workers' order). */
  order?: string[];
  candidates?: (now: number) => WorkerCandidate[];
  /** Overrides the latencies `order` implies. */
  latencies?: Record<string, number | undefined>;
  options?: SchedulerOptions;
}

function setup({ workers, order, candidates, latencies: given, options }: Setup) {
  const time = createFakeTime();
  const transport = createScriptedTransport(workers, time.timers);
  const peers = order ?? Object.keys(workers);
  const source = staticCandidates(() => (candidates ? candidates(time.clock.now()) : peers.map((peerId) => ({ peerId, advert: advertFor(peerId, time.clock.now()) }))));
  const latencies = given ?? Object.fromEntries(peers.map((peerId, rank) => [peerId, 10 * (rank + 1)]));
  const outcomes: [string, WorkerOutcome][] = [];
  const scheduler = createScheduler({
    transport,
    candidates: source,
    latency: fixedLatencies(latencies),
    reputation: fixedReputation({}),
    logger: createSilentLogger(),
    clock: time.clock,
    timers: time.timers,
    random: () => 0,
    onWorkerOutcome: (peerId, outcome) => outcomes.push([peerId, outcome]),
    ...(options && { options }),
  });
  return { time, transport, scheduler, outcomes, source };
}

/** The consumer saw answer positions 0..length-1, each once, in order, with the right tokens and text. */
function expectWholeAnswer(tokens: StreamedToken[], length: number) {
  expect(tokens.map((token) => token.index)).toEqual(Array.from({ length }, (_, index) => index));
  expect(tokens.map((token) => token.tokenId)).toEqual(answerIds(0, length));
  expect(tokens.map((token) => token.text).join("")).toBe(answerText(length));
}

describe("scheduler: a job on a good worker", () => {
  it("streams the whole answer and reports one completed attempt", async () => {
    const { time, scheduler, transport, outcomes } = setup({ workers: { a: goodWorker({ answerLength: 10, batch: 3 }) } });
    const { tokens, result } = await drain(scheduler.runJob(jobRequest()), time);
    expectWholeAnswer(tokens, 10);
    expect(result).toMatchObject({ finishReason: "eos", tokens: answerIds(0, 10), text: answerText(10), workerPeerId: "a", promptTokens: 4, answerTokens: 10 });
    expect(result?.attempts).toEqual([{ peerId: "a", outcome: "completed", tokensReceived: 10, hedge: false, firstIndex: 0, startedAt: expect.any(Number), finishedAt: expect.any(Number) }]);
    expect(transport.calls[0]?.request.resumeTokens).toEqual([]);
    expect(transport.calls[0]?.frameDeadlineMs).toBe(JOB_LIMITS.frameDeadlineMs);
    expect(outcomes).toEqual([["a", { jobId: "job-0001", outcome: "completed", tokensReceived: 10 }]]);
    expect(time.pendingTimers()).toBe(0);
  });

  it("ends with length when the budget is reached", async () => {
    const { time, scheduler } = setup({ workers: { a: goodWorker({ answerLength: 100 }) } });
    const { tokens, result } = await drain(scheduler.runJob(jobRequest({ maxTokens: 7 })), time);
    expectWholeAnswer(tokens, 7);
    expect(result?.finishReason).toBe("length");
  });

  it("rejects an invalid request with SWARM_BAD_REQUEST before contacting anyone", async () => {
    const { time, scheduler, transport } = setup({ workers: { a: goodWorker() } });
    const { error } = await drain(scheduler.runJob(jobRequest({ maxTokens: 0 })), time);
    expect(error).toMatchObject({ code: "SWARM_BAD_REQUEST", retryable: false });
    expect((error as Error).message).toMatch(/maxTokens/);
    expect(transport.calls).toHaveLength(0);
  });
});

describe("scheduler: failover resumes on the next worker without a gap or a repeat", () => {
  const cases: { name: string; first: WorkerScript; delivered: number; code: string }[] = [
    { name: "stalls after 3 tokens", first: stallingWorker(3), delivered: 3, code: "SWARM_STALLED" },
    { name: "closes without end after 4 tokens", first: closingWorker(4), delivered: 4, code: "SWARM_NO_END" },
    { name: "fails to dial", first: unreachableWorker(), delivered: 0, code: "SWARM_DIAL_FAILED" },
    { name: "sends a retryable error frame after 2 tokens", first: erroringWorker("ENGINE_PREEMPTED", true, { afterTokens: 2 }), delivered: 2, code: "ENGINE_PREEMPTED" },
    { name: "throws a retryable SWARM_WORKER_ERROR", first: erroringWorker("ENGINE_BUSY", true, { thrown: true }), delivered: 0, code: "ENGINE_BUSY" },
    { name: "repeats a position after 5 tokens", first: wrongIndexWorker(5, -1), delivered: 5, code: "SWARM_BAD_FRAME" },
    { name: "skips a position after 5 tokens", first: wrongIndexWorker(5, +1), delivered: 5, code: "SWARM_BAD_FRAME" },
    { name: "repeats position 0 at once", first: wrongIndexWorker(1, -1), delivered: 1, code: "SWARM_BAD_FRAME" },
  ];

  it.each(cases)("first worker $name", async ({ first, delivered, code }) => {
    const { time, scheduler, transport, outcomes } = setup({ workers: { a: first, b: goodWorker({ answerLength: 12 }) } });
    const { tokens, result, error } = await drain(scheduler.runJob(jobRequest()), time);
    expect(error).toBeUndefined();
    expectWholeAnswer(tokens, 12);
    const [toA, toB] = transport.calls;
    expect(toA?.peerId).toBe("a");
    expect(toB?.peerId).toBe("b");
    // The second worker continues from exactly the tokens the consumer has, for the same job.
    expect(toB?.request.resumeTokens).toEqual(answerIds(0, delivered));
    expect(toB?.request.jobId).toBe(toA?.request.jobId);
    expect(toB?.request.sampling).toEqual(toA?.request.sampling);
    expect(toB?.request.prompt).toEqual(toA?.request.prompt);
    expect(toA?.closed).toBe(true);
    expect(result?.workerPeerId).toBe("b");
    expect(result?.attempts.map((attempt) => [attempt.peerId, attempt.outcome, attempt.tokensReceived])).toEqual([
      ["a", "failed", delivered],
      ["b", "completed", 12 - delivered],
    ]);
    const failure = result?.attempts[0]?.error;
    expect(failure?.workerCode ?? failure?.code).toBe(code);
    expect(outcomes[0]).toEqual(["a", { jobId: "job-0001", outcome: "failed", tokensReceived: delivered, code }]);
    expect(scheduler.backedOffUntil("a")).toBeGreaterThan(time.clock.now());
    expect(scheduler.backedOffUntil("b")).toBeUndefined();
    // A busy worker is full, not broken: skipped for a second, not backed off exponentially.
    if (code === "ENGINE_BUSY") expect(scheduler.backedOffUntil("a")).toBe(time.clock.now() + DEFAULT_BACKOFF.busyMs);
  });

  it("chains several failovers, each resumed from everything received so far", async () => {
    const { time, scheduler, transport } = setup({ workers: { a: stallingWorker(2), b: closingWorker(3), c: goodWorker({ answerLength: 9 }) } });
    const { tokens, result } = await drain(scheduler.runJob(jobRequest()), time);
    expectWholeAnswer(tokens, 9);
    expect(transport.calls.map((call) => call.request.resumeTokens)).toEqual([[], answerIds(0, 2), answerIds(0, 5)]);
    expect(result?.attempts.map((attempt) => attempt.tokensReceived)).toEqual([2, 3, 4]);
    // Each attempt says where in the answer it took over (its receipt covers the tokens from there).
    expect(result?.attempts.map((attempt) => attempt.firstIndex)).toEqual([0, 2, 5]);
    for (const attempt of result?.attempts ?? []) expect(attempt.finishedAt).toBeGreaterThanOrEqual(attempt.startedAt);
  });

  it("finishes with length, without another attempt, when the budget was spent before the worker failed", async () => {
    const { time, scheduler, transport } = setup({ workers: { a: stallingWorker(6), b: goodWorker() } });
    const { tokens, result } = await drain(scheduler.runJob(jobRequest({ maxTokens: 6 })), time);
    expectWholeAnswer(tokens, 6);
    expect(result).toMatchObject({ finishReason: "length", workerPeerId: "a", answerTokens: 6 });
    expect(transport.callsTo("b")).toHaveLength(0);
  });

  it("treats a worker that sends only keepalives for tokenGapMs as stalled", async () => {
    const { time, scheduler, transport } = setup({ workers: { a: keepaliveOnlyWorker(), b: goodWorker({ answerLength: 3 }) }, options: { tokenGapMs: 30_000 } });
    const run = scheduler.runJob(jobRequest());
    await time.advance(29_000);
    expect(transport.callsTo("b")).toHaveLength(0);
    const { tokens, result } = await drain(run, time);
    expectWholeAnswer(tokens, 3);
    expect(result?.attempts[0]?.error?.code).toBe("SWARM_STALLED");
  });
});

describe("scheduler: errors that end the job", () => {
  it.each([
    ["ENGINE_PROMPT_TOO_LONG", false],
    ["SWARM_BAD_REQUEST", true],
  ])("a non-retryable %s ends the job at once (thrown: %s)", async (code, thrown) => {
    const { time, scheduler, transport, outcomes } = setup({ workers: { a: erroringWorker(code, false, { afterTokens: 0, thrown }), b: goodWorker() } });
    const { tokens, error } = await drain(scheduler.runJob(jobRequest()), time);
    expect(tokens).toEqual([]);
    expect(error).toBeInstanceOf(SwarmError);
    expect(error).toMatchObject({ code: "SWARM_WORKER_ERROR", workerCode: code, retryable: false });
    expect(transport.callsTo("b")).toHaveLength(0);
    // The request was at fault, not the peer.
    expect(scheduler.backedOffUntil("a")).toBeUndefined();
    expect(outcomes).toEqual([["a", { jobId: "job-0001", outcome: "rejected", tokensReceived: 0, code }]]);
  });

  it("a non-retryable transport error (not a worker's) also ends the job at once", async () => {
    const thrower: WorkerScript = async function* () {
      yield { type: "accepted", queuePosition: 0 };
      throw new SwarmError("SWARM_BAD_REQUEST", "request too large", { retryable: false });
    };
    const { time, scheduler, transport } = setup({ workers: { a: thrower, b: goodWorker() } });
    const { error } = await drain(scheduler.runJob(jobRequest()), time);
    expect(error).toMatchObject({ code: "SWARM_BAD_REQUEST" });
    expect(transport.callsTo("b")).toHaveLength(0);
  });

  it("fails over on a peer's own fault even when the transport marks it non-retryable (a malformed peer id)", async () => {
    const badId: WorkerScript = async function* () {
      yield { type: "keepalive" };
      throw new SwarmError("SWARM_DIAL_FAILED", "not a peer id", { retryable: false });
    };
    const { time, scheduler } = setup({ workers: { a: badId, b: goodWorker({ answerLength: 3 }) } });
    const { tokens, result } = await drain(scheduler.runJob(jobRequest()), time);
    expectWholeAnswer(tokens, 3);
    expect(result?.attempts.map((attempt) => attempt.outcome)).toEqual(["failed", "completed"]);
  });

  it("gives up after maxAttempts with SWARM_ATTEMPTS_EXHAUSTED listing each attempt; the stream stayed contiguous", async () => {
    const workers = Object.fromEntries(["a", "b", "c", "d", "e"].map((peerId) => [peerId, stallingWorker(2)]));
    const { time, scheduler, transport } = setup({ workers, options: { maxAttempts: 3 } });
    const { tokens, error } = await drain(scheduler.runJob(jobRequest()), time);
    expectWholeAnswer(tokens, 6);
    expect(transport.calls.map((call) => call.peerId)).toEqual(["a", "b", "c"]);
    expect(error).toMatchObject({ code: "SWARM_ATTEMPTS_EXHAUSTED", retryable: true });
    const message = (error as Error).message;
    expect(message).toContain("limit of 3 attempts");
    for (const peerId of ["a", "b", "c"]) expect(message).toContain(`${peerId}: SWARM_STALLED after 2 token(s)`);
  });

  it("gives up with SWARM_ATTEMPTS_EXHAUSTED when every candidate failed before the bound", async () => {
    const { time, scheduler } = setup({ workers: { a: unreachableWorker(), b: closingWorker(1) } });
    const { error } = await drain(scheduler.runJob(jobRequest()), time);
    expect(error).toMatchObject({ code: "SWARM_ATTEMPTS_EXHAUSTED", retryable: true });
    expect((error as Error).message).toContain("no other worker left to try");
  });

  it.each<[string, (now: number) => WorkerCandidate[]]>([
    ["no candidates at all", () => []],
    ["only paused peers (policy.contribute = false)", (now) => [{ peerId: "a", advert: advertFor("a", now, { contribute: false }) }]],
    ["a fresh advert that does not list the model", (now) => [{ peerId: "a", advert: advertFor("a", now, { models: ["b".repeat(64)] }) }]],
  ])("answers SWARM_NO_WORKERS (retryable) for %s", async (_name, candidates) => {
    const { time, scheduler, transport } = setup({ workers: { a: goodWorker() }, candidates });
    const { error } = await drain(scheduler.runJob(jobRequest()), time);
    expect(error).toMatchObject({ code: "SWARM_NO_WORKERS", retryable: true });
    expect(transport.calls).toHaveLength(0);
  });

  it("answers SWARM_NO_WORKERS when the candidate source itself fails", async () => {
    const time = createFakeTime();
    const scheduler = createScheduler({
      transport: createScriptedTransport({}, time.timers),
      candidates: { candidates: async () => Promise.reject(new Error("dht down")) },
      latency: fixedLatencies({}),
      reputation: fixedReputation({}),
      logger: createSilentLogger(),
      clock: time.clock,
      timers: time.timers,
      random: () => 0,
    });
    const { error } = await drain(scheduler.runJob(jobRequest()), time);
    expect(error).toMatchObject({ code: "SWARM_NO_WORKERS" });
    expect((error as Error).message).toContain("dht down");
  });

  it("uses a peer whose advert expired, scored like a peer without one", async () => {
    const { time, scheduler, transport } = setup({
      workers: { a: goodWorker({ answerLength: 2 }) },
      candidates: (now) => [{ peerId: "a", advert: advertFor("a", now - 120_000, { contribute: false }) }],
    });
    const { result } = await drain(scheduler.runJob(jobRequest()), time);
    expect(result?.workerPeerId).toBe("a");
    expect(transport.calls).toHaveLength(1);
  });
});

describe("scheduler: abort", () => {
  it("the caller's abort closes the running attempt and ends with SWARM_ABORTED; the peer is not blamed", async () => {
    const { time, scheduler, transport, outcomes } = setup({ workers: { a: goodWorker({ answerLength: 50, tokenDelayMs: 100 }), b: goodWorker() } });
    const controller = new AbortController();
    const run = scheduler.runJob(jobRequest(), { signal: controller.signal });
    const seen: StreamedToken[] = [];
    const reading = (async () => {
      try {
        for await (const token of run) seen.push(token);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    await time.advance(450);
    controller.abort();
    await time.advance(100);
    const error = await reading;
    expect(error).toMatchObject({ code: "SWARM_ABORTED", retryable: false });
    await expect(run.result).rejects.toMatchObject({ code: "SWARM_ABORTED" });
    expectWholeAnswer(seen, seen.length);
    expect(seen.length).toBeGreaterThan(0);
    expect(transport.calls).toHaveLength(1);
    expect(transport.calls[0]).toMatchObject({ closed: true, aborted: true });
    expect(scheduler.backedOffUntil("a")).toBeUndefined();
    expect(outcomes).toEqual([["a", { jobId: "job-0001", outcome: "aborted", tokensReceived: seen.length }]]);
    expect(time.pendingTimers()).toBe(0);
  });

  it("an already-aborted signal ends the job before any worker is contacted", async () => {
    const { time, scheduler, transport } = setup({ workers: { a: goodWorker() } });
    const { error } = await drain(scheduler.runJob(jobRequest(), { signal: AbortSignal.abort() }), time);
    expect(error).toMatchObject({ code: "SWARM_ABORTED" });
    expect(transport.calls).toHaveLength(0);
  });

  it("a consumer that stops reading aborts the job and closes the stream", async () => {
    const { time, scheduler, transport } = setup({ workers: { a: goodWorker({ answerLength: 50, tokenDelayMs: 100 }) } });
    const run = scheduler.runJob(jobRequest());
    const reading = (async () => {
      for await (const token of run) if (token.index === 2) break;
    })();
    for (let i = 0; i < 10; i++) await time.advance(100);
    await reading;
    await expect(run.result).rejects.toMatchObject({ code: "SWARM_ABORTED" });
    expect(transport.calls[0]?.closed).toBe(true);
  });

  it("the result settles even when nobody iterates", async () => {
    const { time, scheduler } = setup({ workers: { a: goodWorker({ answerLength: 4 }) } });
    const run = scheduler.runJob(jobRequest());
    await time.advance(100);
    await expect(run.result).resolves.toMatchObject({ text: answerText(4) });
  });
});

describe("scheduler: backoff", () => {
  it("skips a failed peer until its backoff expires, then tries it again; success resets it", async () => {
    const { time, scheduler, transport } = setup({ workers: { a: [unreachableWorker(), goodWorker({ answerLength: 2 })], b: goodWorker({ answerLength: 2 }) } });
    await drain(scheduler.runJob(jobRequest({ jobId: "job-0001" })), time);
    const until = scheduler.backedOffUntil("a");
    // Base 2 s, jitter drawn with random() = 0: exactly 2 s.
    expect(until).toBe(time.clock.now() + 2000);

    const second = await drain(scheduler.runJob(jobRequest({ jobId: "job-0002" })), time);
    expect(second.result?.workerPeerId).toBe("b");
    expect(transport.callsTo("a")).toHaveLength(1);

    await time.advance((until ?? 0) - time.clock.now());
    const third = await drain(scheduler.runJob(jobRequest({ jobId: "job-0003" })), time);
    expect(third.result?.workerPeerId).toBe("a");
    expect(scheduler.backedOffUntil("a")).toBeUndefined();
  });

  it("answers SWARM_NO_WORKERS while the only worker is backed off", async () => {
    const { time, scheduler } = setup({ workers: { a: [unreachableWorker(), goodWorker()] } });
    expect((await drain(scheduler.runJob(jobRequest({ jobId: "job-0001" })), time)).error).toMatchObject({ code: "SWARM_ATTEMPTS_EXHAUSTED" });
    expect((await drain(scheduler.runJob(jobRequest({ jobId: "job-0002" })), time)).error).toMatchObject({ code: "SWARM_NO_WORKERS" });
  });
});

describe("scheduler: choosing the worker", () => {
  const cases: { name: string; candidates: (now: number) => WorkerCandidate[]; expected: string }[] = [
    {
      name: "a free slot beats a long queue",
      candidates: (now) => [
        { peerId: "busy", advert: advertFor("busy", now, { freeSlots: 0, queueLength: 4 }) },
        { peerId: "free", advert: advertFor("free", now, { freeSlots: 1 }) },
      ],
      expected: "free",
    },
    {
      name: "a fast GPU beats a slow one",
      candidates: (now) => [
        { peerId: "slow", advert: advertFor("slow", now, { tokensPerSecond: 5 }) },
        { peerId: "fast", advert: advertFor("fast", now, { tokensPerSecond: 80 }) },
      ],
      expected: "fast",
    },
    {
      name: "an advertised peer beats one known only from the DHT",
      candidates: (now) => [{ peerId: "dht" }, { peerId: "advertised", advert: advertFor("advertised", now) }],
      expected: "advertised",
    },
    {
      name: "a cheap peer beats an expensive one of the same speed",
      candidates: (now) => [
        { peerId: "dear", advert: advertFor("dear", now, { price: 5 }) },
        { peerId: "cheap", advert: advertFor("cheap", now, { price: 0.1 }) },
      ],
      expected: "cheap",
    },
  ];

  it.each(cases)("$name", async ({ candidates, expected }) => {
    const peers = candidates(0).map((candidate) => candidate.peerId);
    const workers = Object.fromEntries(peers.map((peerId) => [peerId, goodWorker({ answerLength: 1 })]));
    // Same latency for all, so only the advert decides.
    const { time, scheduler } = setup({ workers, candidates, latencies: Object.fromEntries(peers.map((peerId) => [peerId, 20])) });
    const { result } = await drain(scheduler.runJob(jobRequest()), time);
    expect(result?.workerPeerId).toBe(expected);
  });
});

describe("scheduler: its own running jobs count against a worker's advert", () => {
  // Both adverts say "1 free slot"; "near" is preferred (10 ms vs 20 ms). Adverts lag real load by a
  // gossip round, so a burst of jobs would all see near's stale free slot.
  /** Both adverts issued at the first lookup and never updated, as between two gossip rounds. */
  const advertsIssuedOnce = () => {
    let issuedAt: number | undefined;
    return (now: number) => {
      issuedAt ??= now;
      return [{ peerId: "near", advert: advertFor("near", issuedAt) }, { peerId: "far", advert: advertFor("far", issuedAt) }];
    };
  };
  const twoWorkers = { near: goodWorker({ answerLength: 4, tokenDelayMs: 200 }), far: goodWorker({ answerLength: 4, tokenDelayMs: 200 }) };

  it("sends a second job to the other worker while the first still runs on the preferred one", async () => {
    const { time, scheduler } = setup({ workers: twoWorkers, candidates: advertsIssuedOnce() });
    const first = scheduler.runJob(jobRequest({ jobId: "job-first" }));
    await time.advance(50); // the first job has its worker (its first token comes at 200 ms)
    const second = scheduler.runJob(jobRequest({ jobId: "job-second" }));
    const [a, b] = await Promise.all([drain(first, time), drain(second, time)]);
    expect(a.result?.workerPeerId).toBe("near");
    expect(b.result?.workerPeerId).toBe("far");
  });

  it("trusts an advert issued after its job started: the worker counted that job already", async () => {
    // The advert is re-issued at every lookup ("now"), so it already includes the first job: near still has a slot.
    const { time, scheduler } = setup({ workers: twoWorkers, candidates: (now) => [{ peerId: "near", advert: advertFor("near", now) }, { peerId: "far", advert: advertFor("far", now) }] });
    const first = scheduler.runJob(jobRequest({ jobId: "job-first" }));
    await time.advance(100);
    const second = scheduler.runJob(jobRequest({ jobId: "job-second" }));
    const [a, b] = await Promise.all([drain(first, time), drain(second, time)]);
    expect(a.result?.workerPeerId).toBe("near");
    expect(b.result?.workerPeerId).toBe("near");
  });

  it("forgets a finished job: the next one goes back to the preferred worker", async () => {
    const { time, scheduler } = setup({ workers: twoWorkers, candidates: advertsIssuedOnce() });
    expect((await drain(scheduler.runJob(jobRequest({ jobId: "job-first" })), time)).result?.workerPeerId).toBe("near");
    expect((await drain(scheduler.runJob(jobRequest({ jobId: "job-second" })), time)).result?.workerPeerId).toBe("near");
  });
});

describe("scheduler: hedged start", () => {
  it("starts a second worker when the first is slow to its first token; the faster one wins, tokens are not duplicated", async () => {
    const { time, scheduler, transport, outcomes } = setup({
      workers: { a: goodWorker({ answerLength: 8, firstTokenDelayMs: 4000 }), b: goodWorker({ answerLength: 8, firstTokenDelayMs: 200 }) },
      options: { hedge: true, hedgeAfterMs: 1500 },
    });
    const run = scheduler.runJob(jobRequest());
    await time.advance(1400);
    expect(transport.calls.map((call) => call.peerId)).toEqual(["a"]);
    const { tokens, result } = await drain(run, time);
    expectWholeAnswer(tokens, 8);
    expect(transport.calls.map((call) => call.peerId)).toEqual(["a", "b"]);
    expect(transport.calls[1]?.request.resumeTokens).toEqual([]);
    expect(transport.calls[0]).toMatchObject({ closed: true, aborted: true });
    expect(transport.calls[0]?.frames.some((frame) => frame.type === "tokens")).toBe(false);
    expect(result?.workerPeerId).toBe("b");
    expect(result?.attempts).toEqual([
      { peerId: "a", outcome: "hedge-lost", tokensReceived: 0, hedge: false, firstIndex: 0, startedAt: expect.any(Number), finishedAt: expect.any(Number) },
      { peerId: "b", outcome: "completed", tokensReceived: 8, hedge: true, firstIndex: 0, startedAt: expect.any(Number), finishedAt: expect.any(Number) },
    ]);
    // Losing a race is not a failure.
    expect(scheduler.backedOffUntil("a")).toBeUndefined();
    expect(outcomes.map(([peerId, outcome]) => [peerId, outcome.outcome])).toEqual([
      ["a", "hedge-lost"],
      ["b", "completed"],
    ]);
    await settle();
    expect(time.pendingTimers()).toBe(0);
  });

  it("keeps the first worker when it delivers before the hedge does", async () => {
    const { time, scheduler, transport } = setup({
      workers: { a: goodWorker({ answerLength: 5, firstTokenDelayMs: 1700 }), b: goodWorker({ answerLength: 5, firstTokenDelayMs: 1000 }) },
      options: { hedge: true, hedgeAfterMs: 1500 },
    });
    const { tokens, result } = await drain(scheduler.runJob(jobRequest()), time);
    expectWholeAnswer(tokens, 5);
    expect(result?.workerPeerId).toBe("a");
    expect(result?.attempts.map((attempt) => attempt.outcome)).toEqual(["completed", "hedge-lost"]);
    expect(transport.calls[1]).toMatchObject({ closed: true, aborted: true });
  });

  it("does not hedge when hedging is off", async () => {
    const { time, scheduler, transport } = setup({
      workers: { a: goodWorker({ answerLength: 3, firstTokenDelayMs: 4000 }), b: goodWorker() },
    });
    const { result } = await drain(scheduler.runJob(jobRequest()), time);
    expect(result?.workerPeerId).toBe("a");
    expect(transport.callsTo("b")).toHaveLength(0);
  });

  it("hedges the resumed attempt after a failover too, and races again if the hedge fails at once", async () => {
    const { time, scheduler, transport } = setup({
      workers: {
        a: stallingWorker(2),
        b: goodWorker({ answerLength: 6, firstTokenDelayMs: 9000 }),
        c: unreachableWorker(),
        d: goodWorker({ answerLength: 6, firstTokenDelayMs: 100 }),
      },
      options: { hedge: true, hedgeAfterMs: 1500 },
    });
    const { tokens, result } = await drain(scheduler.runJob(jobRequest()), time);
    expectWholeAnswer(tokens, 6);
    expect(transport.calls.map((call) => [call.peerId, call.request.resumeTokens.length])).toEqual([
      ["a", 0],
      ["b", 2],
      ["c", 2],
      ["d", 2],
    ]);
    expect(result?.attempts.map((attempt) => [attempt.peerId, attempt.outcome])).toEqual([
      ["a", "failed"],
      ["b", "hedge-lost"],
      ["c", "failed"],
      ["d", "completed"],
    ]);
  });
});

describe("scheduler: the stream never waits for the network", () => {
  it("buffers tokens for a slow reader without stalling the worker", async () => {
    const { time, scheduler } = setup({ workers: { a: goodWorker({ answerLength: 20, batch: 5 }) } });
    const run = scheduler.runJob(jobRequest());
    await time.advance(100);
    await settle();
    const result = await run.result;
    expect(result.answerTokens).toBe(20);
    const tokens: StreamedToken[] = [];
    for await (const token of run) tokens.push(token);
    expectWholeAnswer(tokens, 20);
  });
});
