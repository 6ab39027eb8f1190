import type { CapacityAdvertBody, JobRequest, WorkerFrame } from "../swarm/index.js";

/**
 * What the scheduler needs from the swarm, as interfaces: the swarm module implements them over libp2p,
 * tests implement them with fakes. The scheduler never sees libp2p.
 */
export interface JobTransport {
  /**
   * Opens one attempt of a job on a worker. Yields validated worker frames; throws a SwarmError on a
   * dial failure, a malformed frame, a frame deadline passed (stall) or a stream closed without
   * `end`/`error`. Breaking out of the iteration or aborting `signal` closes the stream.
   */
  openJob(peerId: string, request: JobRequest, options: { signal?: AbortSignal; frameDeadlineMs?: number }): AsyncIterable<WorkerFrame>;
}

export interface WorkerCandidate {
  peerId: string;
  /** The latest valid advert, if any (a peer found only in the DHT has none). */
  advert?: CapacityAdvertBody;
}

export interface CandidateSource {
  /** Workers that serve this model: from fresh adverts first, then DHT providers. */
  candidates(modelSha256: string, options?: { signal?: AbortSignal }): Promise<WorkerCandidate[]>;
}

export interface LatencyProbe {
  /** Round-trip time in ms (libp2p ping), or undefined when unknown/unreachable. */
  latencyMs(peerId: string): Promise<number | undefined>;
}

export interface ReputationSource {
  /** 0 (distrusted) .. 1 (trusted); the trust module fills this in. Unknown peers get a neutral score. */
  score(peerId: string): number;
}
