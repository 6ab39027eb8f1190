// The swarm module's door: the libp2p node and InferSwarm's protocols over it.
export { JOB_PROTOCOL_ID, JOB_LIMITS, jobRequestSchema, workerFrameSchema, samplingSchema } from "./job-protocol.js";
export type { JobRequest, JobRequestInput, WorkerFrame, Sampling } from "./job-protocol.js";
export { ADVERT_TOPIC, ADVERT_LIMITS, capacityAdvertBodySchema, signedCapacityAdvertSchema, advertisedModelSchema } from "./capacity-advert.js";
export type { CapacityAdvertBody, SignedCapacityAdvert, AdvertisedModel } from "./capacity-advert.js";
export { SwarmError, type SwarmErrorCode } from "./swarm-errors.js";
