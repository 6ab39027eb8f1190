import type { Connection, Stream } from "@libp2p/interface";
import type { Logger } from "../common/index.js";
import type { DraftSession, DraftSessionRequest, JobSlotStats } from "../engine/index.js";
import type { DraftErrorCode } from "./draft-errors.js";
import { DRAFT_LIMITS, DRAFT_PROTOCOL_ID, draftRequestSchema, type DraftAnswer } from "./draft-protocol.js";
import { createFrameStream, type FrameStream } from "./frame-stream.js";
import { SwarmError } from "./swarm-errors.js";
import type { SwarmLibp2p } from "./swarm-node.js";

/** What the draft role needs of a model (the engine's SpeculativeModel has it). */
export interface DraftingModel {
  readonly info: { readonly vocabularySize: number; readonly sha256: string };
  openDraftSession(request?: DraftSessionRequest): Promise<DraftSession>;
  stats(): JobSlotStats;
}

export interface DraftHandlerOptions {
  /** The draft model for a content hash, or undefined when this node does not draft with it. */
  resolveDraftModel: (sha256: string) => DraftingModel | undefined;
  logger: Logger;
  /** Tokens guessed ahead while the verifier checks a proposal. */
  runAhead?: number;
  sessionIdleMs?: number;
  maxInboundStreams?: number;
}

export interface DraftHandler {
  /** Open draft sessions (one per paired verifier job stream). */
  sessions(): number;
  stop(): Promise<void>;
}

export async function registerDraftHandler(node: SwarmLibp2p, options: DraftHandlerOptions): Promise<DraftHandler> {
  const logger = options.logger.child({ module: "swarm", component: "draft-worker" });
  const sessionIdleMs = options.sessionIdleMs ?? DRAFT_LIMITS.sessionIdleMs;
  const running = new Set<{ frames: FrameStream; done: Promise<void> }>();
  let stopping = false;

  async function refuse(frames: FrameStream, code: DraftErrorCode, message: string, retryable: boolean) {
    const frame: DraftAnswer = { type: "error", code, message: message.slice(0, 1024), retryable };
    try {
      await frames.writeFrame(frame, { deadlineMs: 2_000 });
      await frames.close({ deadlineMs: 2_000 });
    } catch {
      frames.abort("could not send the draft error");
    }
  }

  async function serve(frames: FrameStream) {
    const hello = await frames.readFrame(draftRequestSchema, { deadlineMs: DRAFT_LIMITS.helloDeadlineMs });
    if (hello.type !== "hello") return refuse(frames, "DRAFT_BAD_REQUEST", "The first frame on a draft stream must be hello.", false);
    const model = options.resolveDraftModel(hello.draftModelSha256);
    if (!model) return refuse(frames, "DRAFT_MODEL_NOT_SERVED", `This node does not draft with model ${hello.draftModelSha256}; pair with one that does.`, true);
    if (model.info.vocabularySize !== hello.vocabularySize) {
      return refuse(frames, "DRAFT_BAD_REQUEST", `The draft's vocabulary has ${model.info.vocabularySize} tokens, the verifier's ${hello.vocabularySize}: they do not share a tokenizer.`, false);
    }
    const slots = model.stats();
    if (!slots.accepting || slots.active >= slots.maxActive) return refuse(frames, "DRAFT_BUSY", "Every draft session of this node is taken; decode plainly or pair with another draft.", true);
    const session = await model.openDraftSession({ runAhead: options.runAhead });
    try {
      await frames.writeFrame({ type: "ready", maxDraftTokens: DRAFT_LIMITS.maxDraftTokens } satisfies DraftAnswer, { deadlineMs: 5_000 });
      let context: number[] = [];
      for (;;) {
        let request;
        try {
          request = await frames.readFrame(draftRequestSchema, { deadlineMs: sessionIdleMs });
        } catch (error) {
          // The verifier closed its stream (job pool shutting down) or went quiet: the session ends.
          if (error instanceof SwarmError && (error.code === "SWARM_NO_END" || error.code === "SWARM_STALLED")) return;
          throw error;
        }
        if (request.type === "hello") return refuse(frames, "DRAFT_BAD_REQUEST", "hello was already sent on this stream.", false);
        if (request.base > context.length) {
          return refuse(frames, "DRAFT_OUT_OF_STEP", `The verifier keeps ${request.base} tokens but this draft holds ${context.length}; open a new draft stream.`, true);
        }
        context = [...context.slice(0, request.base), ...request.append];
        if (context.length > DRAFT_LIMITS.maxContextTokens) return refuse(frames, "DRAFT_BAD_REQUEST", `The context passed ${DRAFT_LIMITS.maxContextTokens} tokens.`, false);
        const foreign = request.append.find((token) => token >= model.info.vocabularySize);
        if (foreign !== undefined) return refuse(frames, "DRAFT_BAD_REQUEST", `Token ${foreign} is outside the vocabulary of ${model.info.vocabularySize}.`, false);
        if (request.type === "sync") {
          session.sync(context);
          continue;
        }
        const proposal = await session.propose(context, request.k);
        const answer: DraftAnswer = { type: "proposal", round: request.round, tokens: proposal.tokens.slice(0, request.k), computeMs: proposal.draftComputeMs ?? 0, ...(proposal.nextGuess !== undefined && { next: proposal.nextGuess }) };
        await frames.writeFrame(answer, { deadlineMs: 5_000 });
      }
    } finally {
      await session.close();
    }
  }

  async function handle(stream: Stream, connection: Connection) {
    const peerId = connection.remotePeer.toString();
    const frames = createFrameStream(stream, { maxFrameBytes: DRAFT_LIMITS.maxFrameBytes });
    if (stopping) return refuse(frames, "DRAFT_BUSY", "This draft node is shutting down.", true);
    let settle!: () => void;
    const entry = { frames, done: new Promise<void>((resolve) => (settle = resolve)) };
    running.add(entry);
    try {
      await serve(frames);
      await frames.close({ deadlineMs: 2_000 });
    } catch (error) {
      logger.debug({ err: error, peerId }, "draft session ended with an error");
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof SwarmError) frames.abort(message);
      else await refuse(frames, "DRAFT_FAILED", `The draft failed: ${message}`, true);
    } finally {
      running.delete(entry);
      settle();
    }
  }

  await node.handle(
    DRAFT_PROTOCOL_ID,
    (stream, connection) =>
      handle(stream, connection).catch((error: unknown) => {
        logger.error({ err: error }, "draft handler failed");
        stream.abort(error instanceof Error ? error : new Error(String(error)));
      }),
    { maxInboundStreams: options.maxInboundStreams ?? DRAFT_LIMITS.maxInboundStreams },
  );

  return {
    sessions: () => running.size,
    async stop() {
      if (stopping) return;
      stopping = true;
      await node.unhandle(DRAFT_PROTOCOL_ID).catch(() => undefined);
      const entries = [...running];
      for (const entry of entries) entry.frames.abort("the draft node is shutting down");
      await Promise.all(entries.map((entry) => entry.done));
    },
  };
}
