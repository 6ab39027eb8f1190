import { peerIdFromString } from "@libp2p/peer-id";
import type { Logger } from "../common/index.js";
import type { DraftProposal, DraftProposer } from "../engine/index.js";
import { DraftError, type DraftErrorCode } from "./draft-errors.js";
import { DRAFT_LIMITS, DRAFT_PROTOCOL_ID, draftAnswerSchema, type DraftPropose, type DraftSync } from "./draft-protocol.js";
import { createFrameStream, type FrameStream } from "./frame-stream.js";
import { SwarmError } from "./swarm-errors.js";
import type { SwarmLibp2p } from "./swarm-node.js";

export interface DraftClientOptions {
  logger: Logger;
  dialTimeoutMs?: number;
  /** Longest wait for a proposal; past it the draft is too slow to help and the job goes on plainly. */
  proposalDeadlineMs?: number;
  /** Extra wait per context token sent (the draft evaluates a new prompt before it can propose). */
  perSentTokenMs?: number;
  /** An idle pooled stream is closed after this long (the draft frees its sequence). */
  idleCloseMs?: number;
}

export interface DraftPeer {
  peerId: string;
  draftModelSha256: string;
}

/** One job's use of a draft stream. Release it when the job ends; a broken lease is closed, not pooled. */
export interface DraftLease extends DraftProposer {
  readonly peerId: string;
  /** False once a proposal failed: the stream is out of step and will be closed on release. */
  usable(): boolean;
  release(): void;
}

export interface DraftClient {
  /** A draft stream to the peer: a pooled idle one, or a new one (dial + hello). */
  lease(peer: DraftPeer, options: { vocabularySize: number; signal?: AbortSignal }): Promise<DraftLease>;
  close(): Promise<void>;
}

interface DraftLink {
  key: string;
  peerId: string;
  frames: FrameStream;
  /** The context the draft holds, as last sent. */
  sent: number[];
  round: number;
  /** Requests sent ahead (prefetch) whose answers nobody has taken yet. */
  inflight: Inflight[];
  /** The tail of the in-order chain of answer reads. */
  reading: Promise<void>;
  broken: boolean;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

interface Inflight {
  context: number[];
  k: number;
  answer: Promise<DraftProposal>;
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && commonPrefix(a, b) === a.length;
}

const DEFAULTS = { dialTimeoutMs: 5_000, proposalDeadlineMs: 500, perSentTokenMs: 2, idleCloseMs: 30_000 };

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const limit = Math.min(a.length, b.length);
  let i = 0;
  while (i < limit && a[i] === b[i]) i++;
  return i;
}

export function createDraftClient(node: SwarmLibp2p, options: DraftClientOptions): DraftClient {
  const logger = options.logger.child({ module: "swarm", component: "draft-client" });
  const config = { ...DEFAULTS, ...options };
  const idle = new Map<string, DraftLink[]>();
  const open = new Set<DraftLink>();
  let closed = false;

  function drop(link: DraftLink, reason: string) {
    link.broken = true;
    clearTimeout(link.idleTimer);
    open.delete(link);
    const pool = idle.get(link.key);
    if (pool) idle.set(link.key, pool.filter((other) => other !== link));
    link.frames.abort(reason);
  }

  async function connect(peer: DraftPeer, key: string, vocabularySize: number, signal: AbortSignal | undefined): Promise<DraftLink> {
    const timeout = AbortSignal.timeout(config.dialTimeoutMs);
    const dialSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let frames: FrameStream;
    try {
      const stream = await node.dialProtocol(peerIdFromString(peer.peerId), DRAFT_PROTOCOL_ID, { signal: dialSignal });
      frames = createFrameStream(stream, { maxFrameBytes: DRAFT_LIMITS.maxFrameBytes });
    } catch (error) {
      throw new DraftError("DRAFT_UNREACHABLE", `Could not open a draft stream to ${peer.peerId}: ${error instanceof Error ? error.message : String(error)}. Decoding goes on without it.`, { cause: error });
    }
    try {
      await frames.writeFrame({ type: "hello", draftModelSha256: peer.draftModelSha256, vocabularySize }, { deadlineMs: config.dialTimeoutMs, signal });
      const answer = await frames.readFrame(draftAnswerSchema, { deadlineMs: config.dialTimeoutMs, signal });
      if (answer.type === "error") throw new DraftError(answer.code.startsWith("DRAFT_") ? (answer.code as DraftErrorCode) : "DRAFT_FAILED", `The draft node refused: ${answer.message}`);
      if (answer.type !== "ready") throw new DraftError("DRAFT_FAILED", `The draft node answered hello with ${answer.type}; it does not speak ${DRAFT_PROTOCOL_ID}.`);
    } catch (error) {
      frames.abort("draft hello failed");
      if (error instanceof DraftError) throw error;
      throw new DraftError("DRAFT_UNREACHABLE", `The draft node ${peer.peerId} did not answer hello: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const link: DraftLink = { key, peerId: peer.peerId, frames, sent: [], round: 0, inflight: [], reading: Promise.resolve(), broken: false, idleTimer: undefined };
    open.add(link);
    return link;
  }

  /** Sends one request; its answer is read in turn (answers come in request order). */
  function send(link: DraftLink, context: readonly number[], k: number, signal: AbortSignal | undefined): Inflight {
    const base = commonPrefix(link.sent, context);
    const frame: DraftPropose = { type: "propose", round: ++link.round, base, append: context.slice(base), k: Math.min(k, DRAFT_LIMITS.maxDraftTokens) };
    // The draft holds this context once it has handled the request, whatever came before it.
    link.sent = [...context];
    const deadlineMs = config.proposalDeadlineMs + frame.append.length * config.perSentTokenMs;
    const written = link.frames.writeFrame(frame, { deadlineMs, signal });
    written.catch(() => undefined); // awaited in turn below; a failure must not surface as unhandled first
    const answer = link.reading.then(async (): Promise<DraftProposal> => {
      await written;
      const reply = await link.frames.readFrame(draftAnswerSchema, { deadlineMs, signal });
      if (reply.type === "error") throw new DraftError(reply.code.startsWith("DRAFT_") ? (reply.code as DraftErrorCode) : "DRAFT_FAILED", `The draft node failed: ${reply.message}`);
      if (reply.type !== "proposal" || reply.round !== frame.round) throw new DraftError("DRAFT_OUT_OF_STEP", `The draft answered ${reply.type === "proposal" ? `round ${reply.round}` : reply.type} to round ${frame.round}.`);
      return { tokens: reply.tokens, draftComputeMs: reply.computeMs, ...(reply.next !== undefined && { nextGuess: reply.next }) };
    });
    const failed = answer.catch((error: unknown) => {
      // Whatever went wrong, a late answer may still arrive: this stream is out of step for good.
      drop(link, "draft proposal failed");
      if (error instanceof DraftError) return error;
      const late = error instanceof SwarmError && error.code === "SWARM_STALLED";
      return new DraftError(late ? "DRAFT_LATE" : "DRAFT_UNREACHABLE", late ? `The draft did not propose within ${deadlineMs} ms.` : `The draft stream failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    link.reading = failed.then(() => undefined);
    const settled = answer.then((proposal) => proposal, async () => Promise.reject(await failed));
    settled.catch(() => undefined); // a prefetch nobody asks for must not surface as unhandled
    return { context: [...context], k: frame.k, answer: settled };
  }

  async function propose(link: DraftLink, context: readonly number[], k: number, signal: AbortSignal | undefined): Promise<DraftProposal> {
    if (link.broken) throw new DraftError("DRAFT_OUT_OF_STEP", "This draft stream failed earlier; decoding goes on without it.");
    const pending = link.inflight.splice(0);
    for (const early of pending) {
      const proposal = await early.answer;
      if (early.k >= k && sameTokens(early.context, context)) {
        return { tokens: proposal.tokens.slice(0, k), draftComputeMs: proposal.draftComputeMs, nextGuess: k < proposal.tokens.length ? proposal.tokens[k] : proposal.nextGuess };
      }
    }
    return send(link, context, k, signal).answer;
  }

  function sync(link: DraftLink, context: readonly number[]) {
    // Behind a request sent ahead (answered in order, its answer discarded later), or on a quiet stream.
    if (link.broken) return;
    const base = commonPrefix(link.sent, context);
    const frame: DraftSync = { type: "sync", base, append: context.slice(base) };
    link.sent = [...context];
    link.frames.writeFrame(frame, { deadlineMs: config.proposalDeadlineMs }).catch(() => drop(link, "draft sync failed"));
  }

  function prefetch(link: DraftLink, context: readonly number[], k: number) {
    // One request ahead is enough to hide the round trip; more would only queue behind it.
    if (link.broken || link.inflight.length > 0) return;
    link.inflight.push(send(link, context, k, undefined));
  }

  return {
    async lease(peer, leaseOptions) {
      if (closed) throw new DraftError("DRAFT_UNREACHABLE", "The draft client was closed.");
      const key = `${peer.peerId}/${peer.draftModelSha256}`;
      const pool = idle.get(key) ?? [];
      let link = pool.pop();
      if (link) clearTimeout(link.idleTimer);
      else link = await connect(peer, key, leaseOptions.vocabularySize, leaseOptions.signal);
      const leased = link;
      let released = false;
      return {
        peerId: peer.peerId,
        usable: () => !leased.broken,
        propose: (context, k, proposeOptions) => propose(leased, context, k, proposeOptions?.signal),
        prefetch: (context, k) => prefetch(leased, context, k),
        sync: (context) => sync(leased, context),
        release() {
          if (released) return;
          released = true;
          if (leased.broken || closed) {
            if (!leased.broken) drop(leased, "draft client closed");
            return;
          }
          leased.idleTimer = setTimeout(() => drop(leased, "idle draft stream"), config.idleCloseMs);
          leased.idleTimer.unref?.();
          const list = idle.get(key) ?? [];
          list.push(leased);
          idle.set(key, list);
          logger.trace({ peerId: peer.peerId }, "draft stream back in the pool");
        },
      };
    },
    async close() {
      closed = true;
      for (const link of [...open]) {
        clearTimeout(link.idleTimer);
        await link.frames.close({ deadlineMs: 1_000 });
        open.delete(link);
      }
      idle.clear();
    },
  };
}
