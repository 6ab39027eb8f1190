// The scheduler module's door (requester side): choosing workers and failing over mid-answer.
export type { JobTransport, WorkerCandidate, CandidateSource, LatencyProbe, ReputationSource } from "./scheduler-ports.js";
