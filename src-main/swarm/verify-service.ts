import type { Connection, PrivateKey, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { toString as uint8ArrayToString } from "uint8arrays/to-string";
import { systemClock, verifyCanonical, type Clock, type Logger } from "../common/index.js";
import { EngineError, type ModelInfo } from "../engine/index.js";
import {
  attestationSigningBytes,
  hashScores,
  hashTokens,
  judgeAnswer,
  scoreAnswer,
  toleranceFor,
  TrustError,
  type AnswerScores,
  type AttestationBody,
  type ScoringModel,
  type SignedAttestation,
  type VerificationAnswer,
  type VerificationRequest,
} from "../trust/index.js";
import { createFrameStream, type FrameStream } from "./frame-stream.js";
import { SwarmError } from "./swarm-errors.js";
import type { SwarmLibp2p } from "./swarm-node.js";
import { VERIFY_LIMITS, VERIFY_PROTOCOL_ID, verifyRequestSchema, verifyResponseSchema, type VerifyErrorCode, type VerifyRequest, type VerifyResponse } from "./verify-protocol.js";

/** What a validator needs of a served model (the engine's LoadedModel has it). */
export interface VerifyingModel extends ScoringModel {
  readonly info: Pick<ModelInfo, "sha256" | "quantization" | "vocabularySize">;
  readonly contextSize: number;
}

export interface VerifyHandlerOptions {
  /** The loaded model for a content hash, or undefined when this node does not serve it. */
  resolveModel: (sha256: string) => VerifyingModel | undefined;
  /** Signs with the node's identity key (e.g. `(bytes) => privateKey.sign(bytes)`). */
  sign: (bytes: Uint8Array) => Promise<Uint8Array> | Uint8Array;
  logger: Logger;
  clock?: Clock;
  /** For reputation: a peer sent a malformed, oversized, truncated or late request. */
  onMisbehaviour?: (peerId: string, reason: string) => void;
  /** For stats and the ledger: every attestation this node signed. */
  onAttested?: (attestation: SignedAttestation, requesterPeerId: string) => void;
  requestDeadlineMs?: number;
  /** Longest a request may take here, queue included; past it the stream is reset. */
  answerDeadlineMs?: number;
  maxQueuedPerModel?: number;
  maxInboundStreams?: number;
  writeDeadlineMs?: number;
}

export interface VerifyHandler {
  /** Scorings running or waiting, over all models. */
  pending(): number;
  stop(): Promise<void>;
}

export async function signAttestation(body: AttestationBody, sign: (bytes: Uint8Array) => Promise<Uint8Array> | Uint8Array): Promise<SignedAttestation> {
  const signature = await sign(attestationSigningBytes(body));
  return { body, signature: uint8ArrayToString(signature, "base64") };
}

/** True when the attestation was signed by the key of `body.validatorPeerId`. */
export async function verifyAttestationSignature(attestation: SignedAttestation): Promise<boolean> {
  return (await verifyCanonical(attestation.body, attestation.body.validatorPeerId, attestation.signature)) === "ok";
}

/** The signer for `sign` from a libp2p private key. */
export function attestationSigner(privateKey: PrivateKey): (bytes: Uint8Array) => Promise<Uint8Array> {
  return async (bytes) => privateKey.sign(bytes);
}

/**
 * One scoring at a time per model: teacher forcing takes a context sequence and the CPU, and serving jobs
 * comes first. A short queue absorbs bursts; beyond it the validator says VERIFY_BUSY.
 */
class SerialQueue {
  private running = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly maxWaiting: number) {}

  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  /** Undefined when the queue is full. */
  tryRun<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> | undefined {
    if (this.running && this.waiting.length >= this.maxWaiting) return undefined;
    return this.enter(signal).then(async () => {
      try {
        return await task();
      } finally {
        this.leave();
      }
    });
  }

  private async enter(signal: AbortSignal): Promise<void> {
    if (!this.running) {
      this.running = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const start = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(start);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason);
      };
      this.waiting.push(start);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private leave() {
    const next = this.waiting.shift();
    if (next) next();
    else this.running = false;
  }
}

/** The validator's side of /inferswarm/verify/1.0.0. */
export async function registerVerifyHandler(node: SwarmLibp2p, options: VerifyHandlerOptions): Promise<VerifyHandler> {
  const logger = options.logger.child({ module: "swarm", component: "verify-service" });
  const clock = options.clock ?? systemClock;
  const requestDeadlineMs = options.requestDeadlineMs ?? VERIFY_LIMITS.requestDeadlineMs;
  const writeDeadlineMs = options.writeDeadlineMs ?? VERIFY_LIMITS.requestDeadlineMs;
  const maxQueued = options.maxQueuedPerModel ?? VERIFY_LIMITS.maxQueuedPerModel;
  const answerDeadlineMs = options.answerDeadlineMs ?? VERIFY_LIMITS.responseDeadlineMs;
  const queues = new Map<string, SerialQueue>();
  const running = new Set<{ controller: AbortController; done: Promise<void> }>();
  const selfId = node.peerId.toString();
  let stopping = false;

  const misbehaved = (peerId: string, reason: string) => {
    logger.warn({ peerId, reason }, "peer misbehaved on the verify protocol");
    try {
      options.onMisbehaviour?.(peerId, reason);
    } catch (error) {
      logger.error({ err: error }, "onMisbehaviour hook threw");
    }
  };

  async function answer(frames: FrameStream, response: VerifyResponse) {
    try {
      await frames.writeFrame(response, { deadlineMs: writeDeadlineMs });
      await frames.close();
    } catch {
      frames.abort("could not send the verify response");
    }
  }

  const refuse = (frames: FrameStream, code: VerifyErrorCode | "SWARM_BAD_REQUEST" | "SWARM_MODEL_NOT_SERVED" | "SWARM_SHUTTING_DOWN", message: string, retryable: boolean) =>
    answer(frames, { type: "error", code, message: message.slice(0, 1024), retryable });

  async function handle(stream: Stream, connection: Connection) {
    const peerId = connection.remotePeer.toString();
    const frames = createFrameStream(stream, { maxFrameBytes: VERIFY_LIMITS.maxFrameBytes });
    if (stopping) return refuse(frames, "SWARM_SHUTTING_DOWN", "This validator is shutting down; ask another one.", true);

    let request: VerifyRequest;
    try {
      request = await frames.readFrame(verifyRequestSchema, { deadlineMs: requestDeadlineMs });
    } catch (error) {
      const code = error instanceof SwarmError ? error.code : "SWARM_INTERNAL";
      misbehaved(peerId, `verify request: ${code}`);
      if (code === "SWARM_NO_END") return frames.abort("the verify request was truncated");
      return refuse(frames, "SWARM_BAD_REQUEST", `The verify request was refused: ${error instanceof Error ? error.message : String(error)}`, false);
    }

    const model = options.resolveModel(request.modelSha256);
    if (!model) return refuse(frames, "SWARM_MODEL_NOT_SERVED", `This validator does not serve model ${request.modelSha256}; ask one that advertises it.`, true);
    const vocabulary = model.info.vocabularySize;
    const foreign = [...request.promptTokens, ...request.claimedTokens].find((token) => token >= vocabulary);
    if (foreign !== undefined) {
      misbehaved(peerId, "verify request: token outside the vocabulary");
      return refuse(frames, "SWARM_BAD_REQUEST", `Token ${foreign} is outside this model's vocabulary of ${vocabulary}; the request cannot come from a job on this model.`, false);
    }
    // +1: an "eos" answer is scored with its end token.
    if (request.promptTokens.length + request.claimedTokens.length + 1 >= model.contextSize) {
      return refuse(frames, "VERIFY_TOO_LONG", `Prompt and answer are ${request.promptTokens.length + request.claimedTokens.length} tokens; this validator's context holds ${model.contextSize}. Ask a validator with a larger context.`, true);
    }

    let queue = queues.get(request.modelSha256);
    if (!queue) queues.set(request.modelSha256, (queue = new SerialQueue(maxQueued)));
    const controller = new AbortController();
    // The requester waits with its side open: its close or reset means nobody wants the answer any more.
    const onGone = () => controller.abort(new Error("the requester went away"));
    stream.addEventListener("close", onGone);
    stream.addEventListener("remoteCloseWrite", onGone);
    // Nobody waits longer than the requester's own deadline; a request held open past it only costs us.
    const overdue = setTimeout(() => controller.abort(new Error("the answer deadline passed")), answerDeadlineMs);
    let settle!: () => void;
    const job = { controller, done: new Promise<void>((resolve) => (settle = resolve)) };
    running.add(job);
    try {
      const scored = queue.tryRun(() => scoreAndSign(request, model, controller.signal), controller.signal);
      if (!scored) return await refuse(frames, "VERIFY_BUSY", "This validator is busy scoring other answers; ask another validator.", true);
      const attested = await scored;
      await answer(frames, { type: "attestation", ...attested });
      try {
        options.onAttested?.(attested.attestation, peerId);
      } catch (error) {
        logger.error({ err: error }, "onAttested hook threw");
      }
    } catch (error) {
      if (controller.signal.aborted) {
        frames.abort(stopping ? "the validator is shutting down" : String((controller.signal.reason as Error | undefined)?.message ?? "aborted"));
        return;
      }
      const retryable = error instanceof EngineError && ["ENGINE_BUSY", "ENGINE_PAUSED", "ENGINE_PREEMPTED", "ENGINE_CLOSED"].includes(error.code);
      if (!(error instanceof EngineError || error instanceof TrustError)) logger.error({ err: error, jobId: request.jobId }, "scoring failed unexpectedly");
      await refuse(frames, "VERIFY_FAILED", `This validator could not score the answer: ${error instanceof Error ? error.message : String(error)}`, retryable);
    } finally {
      clearTimeout(overdue);
      stream.removeEventListener("close", onGone);
      stream.removeEventListener("remoteCloseWrite", onGone);
      running.delete(job);
      settle();
    }
  }

  async function scoreAndSign(request: VerifyRequest, model: VerifyingModel, signal: AbortSignal): Promise<VerificationAnswer> {
    const scores = await scoreAnswer(model, { promptTokens: request.promptTokens, claimedTokens: request.claimedTokens, finishReason: request.finishReason, sampling: request.sampling, signal });
    const judgement = judgeAnswer(scores, { finishReason: request.finishReason, tokenCount: request.claimedTokens.length, maxTokens: request.maxTokens }, request.sampling, toleranceFor(model.info.quantization));
    const body: AttestationBody = {
      jobId: request.jobId,
      validatorPeerId: selfId,
      modelSha256: request.modelSha256,
      quantization: model.info.quantization,
      promptSha256: hashTokens(request.promptTokens),
      outputSha256: hashTokens(request.claimedTokens),
      scoresSha256: hashScores(scores),
      finishReason: request.finishReason,
      maxTokens: request.maxTokens,
      verdict: judgement.verdict,
      reasons: judgement.reasons,
      stats: judgement.stats,
      at: clock.now(),
    };
    logger.debug({ jobId: request.jobId, verdict: judgement.verdict, failing: judgement.stats.failing }, "answer verified");
    return { attestation: await signAttestation(body, options.sign), scores };
  }

  await node.handle(
    VERIFY_PROTOCOL_ID,
    (stream, connection) =>
      handle(stream, connection).catch((error: unknown) => {
        logger.error({ err: error }, "verify handler failed");
        stream.abort(error instanceof Error ? error : new Error(String(error)));
      }),
    { maxInboundStreams: options.maxInboundStreams ?? VERIFY_LIMITS.maxInboundStreams },
  );

  return {
    pending: () => [...queues.values()].reduce((sum, queue) => sum + queue.size, 0),
    async stop() {
      if (stopping) return;
      stopping = true;
      await node.unhandle(VERIFY_PROTOCOL_ID).catch(() => undefined);
      const jobs = [...running];
      for (const job of jobs) job.controller.abort(new Error("the validator is shutting down"));
      await Promise.all(jobs.map((job) => job.done));
    },
  };
}

export interface RequestVerificationOptions {
  signal?: AbortSignal;
  /** Longest wait for the answer after the request was sent (queue + scoring). */
  deadlineMs?: number;
  dialTimeoutMs?: number;
  /** For reputation: the validator sent a malformed frame or an attestation that does not hold together. */
  onMisbehaviour?: (peerId: string, reason: string) => void;
}

/**
 * The requester's side: asks one validator to score an answer and checks what comes back: the signature
 * is the validator's, the body names this job, prompt, answer and the scores sent beside it, and the
 * validator's verdict follows from its own scores under the tolerance for the weights it serves. It does
 * not decide whom to believe: the validation coordinator re-judges and asks a quorum on a fail.
 */
export async function requestVerification(node: SwarmLibp2p, validatorPeerId: string, request: VerificationRequest, options: RequestVerificationOptions = {}): Promise<VerificationAnswer> {
  const { signal } = options;
  const deadlineMs = options.deadlineMs ?? VERIFY_LIMITS.responseDeadlineMs;
  const dialTimeoutMs = options.dialTimeoutMs ?? 10_000;
  const frame: VerifyRequest = verifyRequestSchema.parse({ type: "verify", ...request });
  let target;
  try {
    target = peerIdFromString(validatorPeerId);
  } catch (error) {
    throw new SwarmError("SWARM_DIAL_FAILED", `"${validatorPeerId.slice(0, 80)}" is not a peer id; pick a validator from the candidates.`, { retryable: false, cause: error });
  }
  if (signal?.aborted) throw new SwarmError("SWARM_ABORTED", "The verification was cancelled before it started.", { retryable: false });
  const timeout = AbortSignal.timeout(dialTimeoutMs);
  let frames: FrameStream;
  try {
    const stream = await node.dialProtocol(target, VERIFY_PROTOCOL_ID, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, negotiateFully: false });
    frames = createFrameStream(stream, { maxFrameBytes: VERIFY_LIMITS.maxFrameBytes });
  } catch (error) {
    if (signal?.aborted) throw new SwarmError("SWARM_ABORTED", "The verification was cancelled while dialling.", { retryable: false, cause: error });
    const why = timeout.aborted ? `no stream within ${dialTimeoutMs} ms` : error instanceof Error ? error.message : String(error);
    throw new SwarmError("SWARM_DIAL_FAILED", `Could not open a verify stream to ${validatorPeerId}: ${why}. Ask another validator.`, { retryable: true, cause: error });
  }

  const misbehaved = (reason: string) => {
    try {
      options.onMisbehaviour?.(validatorPeerId, reason);
    } catch {
      // a reputation hook must not change the verification's outcome
    }
  };

  let ended = false;
  try {
    await frames.writeFrame(frame, { deadlineMs: VERIFY_LIMITS.requestDeadlineMs, ...(signal && { signal }) });
    let response: VerifyResponse;
    try {
      response = await frames.readFrame(verifyResponseSchema, { deadlineMs, ...(signal && { signal }) });
    } catch (error) {
      if (error instanceof SwarmError && (error.code === "SWARM_BAD_FRAME" || error.code === "SWARM_FRAME_TOO_LARGE")) misbehaved(`verify response: ${error.code}`);
      throw error;
    }
    ended = true;
    if (response.type === "error") {
      throw new SwarmError("SWARM_WORKER_ERROR", `Validator ${validatorPeerId} did not verify job ${request.jobId}: ${response.code}: ${response.message}`, {
        retryable: response.retryable,
        workerCode: response.code,
      });
    }
    const problem = await attestationProblem(response.attestation, response.scores, validatorPeerId, frame);
    if (problem) {
      misbehaved(`verify response: ${problem}`);
      throw new TrustError("TRUST_INCONSISTENT_ATTESTATION", `Validator ${validatorPeerId} sent an attestation that does not hold: ${problem}. Its verdict is ignored; ask another validator.`);
    }
    return { attestation: response.attestation, scores: response.scores };
  } finally {
    if (ended) void frames.close({ deadlineMs: 2_000 });
    else frames.abort("the requester abandoned the verification");
  }
}

/** Why an attestation cannot be taken as the named validator's judgement of this request, or undefined. */
async function attestationProblem(attestation: SignedAttestation, scores: AnswerScores, validatorPeerId: string, request: VerifyRequest): Promise<string | undefined> {
  const body = attestation.body;
  if (body.validatorPeerId !== validatorPeerId) return "it names another validator";
  if (!(await verifyAttestationSignature(attestation))) return "its signature is not the validator's";
  if (body.jobId !== request.jobId || body.modelSha256 !== request.modelSha256) return "it is about another job or model";
  if (body.promptSha256 !== hashTokens(request.promptTokens) || body.outputSha256 !== hashTokens(request.claimedTokens)) return "it is about another prompt or answer";
  if (body.finishReason !== request.finishReason || body.maxTokens !== request.maxTokens) return "it judged another finish";
  if (body.scoresSha256 !== hashScores(scores)) return "the scores sent are not the ones it signed";
  if (scores.positions.length !== request.claimedTokens.length) return "it scored another number of tokens";
  const rejudged = judgeAnswer(scores, { finishReason: request.finishReason, tokenCount: request.claimedTokens.length, maxTokens: request.maxTokens }, request.sampling, toleranceFor(body.quantization));
  if (rejudged.verdict !== body.verdict) return `its verdict "${body.verdict}" does not follow from its own scores`;
  return undefined;
}
