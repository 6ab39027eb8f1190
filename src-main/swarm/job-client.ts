import { peerIdFromString } from "@libp2p/peer-id";
import type { Logger } from "../common/index.js";
import type { JobTransport, LatencyProbe } from "../scheduler/index.js";
import { createFrameStream, type FrameStream } from "./frame-stream.js";
import { JOB_LIMITS, JOB_PROTOCOL_ID, workerFrameSchema, type JobRequest, type WorkerFrame } from "./job-protocol.js";
import { SwarmError } from "./swarm-errors.js";
import type { SwarmLibp2p } from "./swarm-node.js";

export interface JobClientOptions {
  logger: Logger;
  /** Longest wait to connect and open the job stream. */
  dialTimeoutMs?: number;
}

/** The scheduler's JobTransport over libp2p: one stream per attempt, frames validated and deadlined. */
export function createJobTransport(node: SwarmLibp2p, options: JobClientOptions): JobTransport {
  const logger = options.logger.child({ module: "swarm", component: "job-client" });
  const dialTimeoutMs = options.dialTimeoutMs ?? 10_000;

  async function dial(peerId: string, signal: AbortSignal | undefined): Promise<FrameStream> {
    let target;
    try {
      target = peerIdFromString(peerId);
    } catch (error) {
      throw new SwarmError("SWARM_DIAL_FAILED", `"${peerId.slice(0, 80)}" is not a peer id; pick a worker from the candidates.`, { retryable: false, cause: error });
    }
    const timeout = AbortSignal.timeout(dialTimeoutMs);
    try {
      // negotiateFully: false sends the protocol id with the request frame, saving a round trip before
      // the first token; a worker without the protocol resets the stream and the job fails over.
      const stream = await node.dialProtocol(target, JOB_PROTOCOL_ID, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, negotiateFully: false });
      return createFrameStream(stream);
    } catch (error) {
      if (signal?.aborted) throw new SwarmError("SWARM_ABORTED", "The job attempt was cancelled while dialling.", { retryable: false, cause: error });
      const why = timeout.aborted ? `no stream within ${dialTimeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new SwarmError("SWARM_DIAL_FAILED", `Could not open a job stream to ${peerId}: ${why}. Try another worker.`, { retryable: true, cause: error });
    }
  }

  return {
    async *openJob(peerId: string, request: JobRequest, openOptions: { signal?: AbortSignal; frameDeadlineMs?: number } = {}): AsyncGenerator<WorkerFrame> {
      const { signal } = openOptions;
      const deadlineMs = openOptions.frameDeadlineMs ?? JOB_LIMITS.frameDeadlineMs;
      if (signal?.aborted) throw new SwarmError("SWARM_ABORTED", "The job attempt was cancelled before it started.", { retryable: false });
      const frames = await dial(peerId, signal);
      let ended = false;
      try {
        await frames.writeFrame(request, { deadlineMs, signal });
        // Token frames must continue exactly where the answer stands: a gap or a repeat is a broken worker.
        let expectedIndex = request.resumeTokens.length;
        for (;;) {
          const frame: WorkerFrame = await frames.readFrame(workerFrameSchema, { deadlineMs, signal });
          if (frame.type === "error") {
            ended = true;
            throw new SwarmError("SWARM_WORKER_ERROR", `Worker ${peerId} refused or ended the job: ${frame.code}: ${frame.message}`, {
              retryable: frame.retryable,
              workerCode: frame.code,
            });
          }
          if (frame.type === "tokens") {
            if (frame.index !== expectedIndex) {
              throw new SwarmError("SWARM_BAD_FRAME", `Worker ${peerId} sent tokens at answer position ${frame.index}, expected ${expectedIndex}; it skipped or repeated tokens.`, {
                retryable: true,
              });
            }
            expectedIndex += frame.ids.length;
          }
          if (frame.type === "end") ended = true;
          yield frame;
          if (ended) return;
        }
      } finally {
        // A finished job closes politely; anything else (a break, an abort, a failure) resets the
        // stream so the worker stops generating at once.
        if (ended) void frames.close({ deadlineMs: 2_000 });
        else {
          logger.debug({ peerId, jobId: request.jobId }, "job attempt abandoned; resetting the stream");
          frames.abort("the requester abandoned the job attempt");
        }
      }
    },
  };
}

/** Round-trip times from libp2p ping; undefined when the peer does not answer in time. */
export function createLatencyProbe(node: SwarmLibp2p, options: { timeoutMs?: number } = {}): LatencyProbe {
  const timeoutMs = options.timeoutMs ?? 3_000;
  return {
    async latencyMs(peerId) {
      try {
        return await node.services.ping.ping(peerIdFromString(peerId), { signal: AbortSignal.timeout(timeoutMs) });
      } catch {
        return undefined;
      }
    },
  };
}
