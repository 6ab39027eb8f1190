import type { ChatMessage } from "../engine/index.js";
import type { JobRun, JobRunResult, SchedulerJobRequest, StreamedToken } from "../scheduler/index.js";
import type { CapacityAdvertBody } from "../swarm/index.js";
import type { GatewayScheduler } from "./openai-gateway.js";
import type { GatewayTokenizer } from "./openai-models.js";

// Fakes for the gateway's unit tests: a tokenizer without llama.cpp, adverts in a list, and a scheduler
// that plays a script per job. The integration tests use the real ones.

export function fakeTokenizer(name: string, sha256: string, contextLength = 256, withTemplate = true): GatewayTokenizer {
  const tokenizePrompt = (text: string) => [1, ...[...text].map((char) => 3 + (char.codePointAt(0)! % 500))];
  return {
    info: { path: `/models/${name}.gguf`, name, architecture: "llama", parameterCount: 1, quantization: "F32", contextLength, embeddingLength: 8, layerCount: 1, vocabularySize: 512, fileSizeBytes: 1, sha256 },
    chatTemplate: withTemplate ? "fake" : undefined,
    tokenizePrompt,
    renderChat(messages: readonly ChatMessage[]) {
      const text = `${messages.map((m) => `<${m.role}>${m.content}`).join("")}<assistant>`;
      return { text, tokens: tokenizePrompt(text) };
    },
  };
}

export function advert(peerId: string, models: { sha256: string; name: string; contextSize?: number }[], options: { contribute?: boolean } = {}): CapacityAdvertBody {
  const now = Date.now();
  return {
    peerId,
    issuedAt: now,
    expiresAt: now + 60_000,
    sequence: now,
    models: models.map((m) => ({ sha256: m.sha256, name: m.name, quantization: "F32", contextSize: m.contextSize ?? 256, tokensPerSecond: 100, pricePer1kTokens: 0.2 })),
    freeSlots: 1,
    queueLength: 0,
    policy: { contribute: options.contribute ?? true, reasonCode: options.contribute === false ? "paused" : "contributing" },
    addresses: [],
  };
}

/** What one job does: stream these texts (one token each), then end or fail. */
export interface JobScript {
  texts?: string[];
  finishReason?: JobRunResult["finishReason"];
  /** Fail before any token (status code) or after `failAfter` tokens (SSE error event). */
  error?: unknown;
  failAfter?: number;
  /** Pause between tokens; with `hang` the job never ends on its own (for abort tests). */
  tokenDelayMs?: number;
  hang?: boolean;
}

export interface FakeScheduler extends GatewayScheduler {
  requests: SchedulerJobRequest[];
  signals: AbortSignal[];
  /** The next jobs' scripts, in order; when empty, `fallback` plays. */
  scripts: JobScript[];
  fallback: JobScript;
  backoff: Map<string, number>;
}

export function fakeScheduler(): FakeScheduler {
  const fake: FakeScheduler = {
    requests: [],
    signals: [],
    scripts: [],
    fallback: { texts: ["Hello", " world"], finishReason: "eos" },
    backoff: new Map(),
    backedOffUntil: (peerId) => fake.backoff.get(peerId),
    runJob(request, options = {}) {
      const signal = options.signal ?? new AbortController().signal;
      fake.requests.push(request);
      fake.signals.push(signal);
      return playScript(request, fake.scripts.shift() ?? fake.fallback, signal);
    },
  };
  return fake;
}

function playScript(request: SchedulerJobRequest, script: JobScript, signal: AbortSignal): JobRun {
  const buffered: StreamedToken[] = [];
  let outcome: { ok: true } | { ok: false; error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let settle!: { resolve: (r: JobRunResult) => void; reject: (e: unknown) => void };
  const result = new Promise<JobRunResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined);
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const finish = (end: { ok: true } | { ok: false; error: unknown }) => {
    if (outcome) return;
    outcome = end;
    if (end.ok) {
      const texts = buffered.map((t) => t.text);
      settle.resolve({
        finishReason: script.finishReason ?? "eos",
        tokens: buffered.map((t) => t.tokenId),
        text: texts.join(""),
        attempts: [{ peerId: "worker-a", outcome: "completed", tokensReceived: texts.length, hedge: false, firstIndex: 0, startedAt: Date.now(), finishedAt: Date.now() }],
        workerPeerId: "worker-a",
        promptTokens: request.prompt.tokens.length,
        answerTokens: texts.length,
      });
    } else {
      settle.reject(end.error);
    }
    notify();
  };
  signal.addEventListener("abort", () => finish({ ok: false, error: Object.assign(new Error("aborted"), { code: "SWARM_ABORTED" }) }), { once: true });

  void (async () => {
    const texts = script.texts ?? [];
    for (let index = 0; index < texts.length; index++) {
      if (outcome) return;
      if (script.error !== undefined && script.failAfter === index) return finish({ ok: false, error: script.error });
      if (script.tokenDelayMs) await new Promise((resolve) => setTimeout(resolve, script.tokenDelayMs));
      if (outcome) return;
      buffered.push({ tokenId: 10 + index, text: texts[index]!, index });
      notify();
    }
    if (script.error !== undefined) return finish({ ok: false, error: script.error });
    if (!script.hang) finish({ ok: true });
  })();

  return {
    jobId: request.jobId,
    currentWorker: () => "worker-a",
    result,
    [Symbol.asyncIterator]() {
      let read = 0;
      return {
        async next(): Promise<IteratorResult<StreamedToken>> {
          for (;;) {
            if (read < buffered.length) return { value: buffered[read++]!, done: false };
            if (outcome && !outcome.ok) throw outcome.error;
            if (outcome) return { value: undefined, done: true };
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
        async return(): Promise<IteratorResult<StreamedToken>> {
          return { value: undefined, done: true };
        },
      };
    },
  };
}
