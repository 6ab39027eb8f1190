import type { Stream } from "@libp2p/interface";
import { expect } from "vitest";
import type { z } from "zod";
import { isInferSwarmError } from "../common/index.js";
import { createFrameStream } from "./frame-stream.js";
import { varint } from "./length-prefix.test-support.js";

/** The ways a fuzzed request is broken; cases cycle through them in this order. */
export const FUZZ_KINDS = ["random", "truncated", "oversized", "schema", "garbage-json", "empty"] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

export interface FuzzCase {
  kind: FuzzKind;
  /** What is sent raw on the stream, length prefix included (or deliberately broken). */
  bytes: Uint8Array;
}

export interface FuzzCaseOptions<Frame> {
  /** Seeded so a failure can be replayed. */
  seed: number;
  count: number;
  /** A frame the handler would accept; truncated and schema cases start from it. */
  validFrame: Frame;
  /** Each breaks a copy of `validFrame` in one way the schema must refuse. */
  mutations: ReadonlyArray<(frame: Frame) => void>;
  /** The protocol's frame limit: oversized cases announce a length past it. */
  maxFrameBytes: number;
}

/** Broken requests for a length-prefixed JSON protocol, generated deterministically from `seed`. */
export function fuzzCases<Frame>(options: FuzzCaseOptions<Frame>): FuzzCase[] {
  let seed = options.seed;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const prefixed = (body: Uint8Array) => Uint8Array.from([...varint(body.byteLength), ...body]);
  const encode = (frame: unknown) => prefixed(new TextEncoder().encode(JSON.stringify(frame)));

  const cases: FuzzCase[] = [];
  for (let i = 0; i < options.count; i++) {
    const kind = FUZZ_KINDS[i % FUZZ_KINDS.length]!;
    let bytes: Uint8Array;
    if (kind === "random") bytes = randomBytes(1 + Math.floor(rand() * 300));
    else if (kind === "truncated") {
      const whole = encode(options.validFrame);
      bytes = whole.subarray(0, 1 + Math.floor(rand() * (whole.byteLength - 2)));
    } else if (kind === "oversized") bytes = Uint8Array.from([...varint(options.maxFrameBytes + 1 + Math.floor(rand() * 1e6)), ...randomBytes(16)]);
    else if (kind === "schema") {
      const mutated = structuredClone(options.validFrame);
      options.mutations[Math.floor(rand() * options.mutations.length)]!(mutated);
      bytes = encode(mutated);
    } else if (kind === "garbage-json") bytes = prefixed(randomBytes(1 + Math.floor(rand() * 64)).map((b) => 0x20 + (b % 90)));
    else bytes = new Uint8Array(0);
    cases.push({ kind, bytes });
  }
  return cases;
}

export interface SendFuzzCasesOptions<Schema extends z.ZodType> {
  /** Opens a fresh stream to the handler under test, one per case. */
  dial: () => Promise<Stream>;
  /** The schema of the handler's answer frames. */
  answerSchema: Schema;
  /** Names an answer frame for counting, e.g. `error:SWARM_BAD_REQUEST`. */
  describeAnswer: (frame: z.infer<Schema>) => string;
  /** Every case's answer (a described frame, or the code of the error reading it) must be one of these. */
  allowedAnswers: readonly string[];
}

/**
 * Sends each case on its own stream, reads the one answer, and checks it is allowed.
 * Returns how often each answer occurred, for the caller's protocol-specific checks.
 */
export async function sendFuzzCases<Schema extends z.ZodType>(cases: readonly FuzzCase[], options: SendFuzzCasesOptions<Schema>): Promise<Record<string, number>> {
  const answers: Record<string, number> = {};
  for (const fuzz of cases) {
    const stream = await options.dial();
    const frames = createFrameStream(stream);
    if (fuzz.bytes.byteLength > 0) stream.send(fuzz.bytes);
    // Close our side so a truncated frame is seen as truncated, not as a slow sender.
    await stream.close().catch(() => undefined);
    let answer: string;
    try {
      answer = options.describeAnswer(await frames.readFrame(options.answerSchema, { deadlineMs: 5_000 }));
    } catch (error) {
      answer = isInferSwarmError(error) ? error.code : "other";
    }
    stream.abort(new Error("case over"));
    answers[answer] = (answers[answer] ?? 0) + 1;
    expect(options.allowedAnswers, `${fuzz.kind}: ${answer}`).toContain(answer);
  }
  return answers;
}
