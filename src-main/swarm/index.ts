// The swarm module's door: the libp2p node and InferSwarm's protocols over it.
export { JOB_PROTOCOL_ID, JOB_LIMITS, jobRequestSchema, workerFrameSchema, samplingSchema } from "./job-protocol.js";
export type { JobRequest, JobRequestInput, WorkerFrame, Sampling } from "./job-protocol.js";
export { ADVERT_TOPIC, ADVERT_LIMITS, capacityAdvertBodySchema, signedCapacityAdvertSchema, advertisedModelSchema } from "./capacity-advert.js";
export type { CapacityAdvertBody, SignedCapacityAdvert, AdvertisedModel } from "./capacity-advert.js";
export { SwarmError, type SwarmErrorCode } from "./swarm-errors.js";
export { createSwarmNode, DEFAULT_LISTEN, SWARM_DHT_PROTOCOL, type SwarmNode, type SwarmNodeOptions, type SwarmLibp2p, type SwarmServices } from "./swarm-node.js";
export { loadOrCreateIdentity, readIdentityFileBytes, generateIdentityBytes, identityFromBytes } from "./swarm-identity.js";
export { generateSwarmKey, parseSwarmKey } from "./swarm-key.js";
export { createFrameStream, type FrameStream, type ReadFrameOptions, type WriteFrameOptions } from "./frame-stream.js";
export { registerJobHandler, type JobHandler, type JobHandlerOptions, type JobOutcome } from "./job-worker.js";
export { createJobTransport, createLatencyProbe, type JobClientOptions } from "./job-client.js";
export {
  createAdvertService,
  signAdvert,
  verifyAdvertSignature,
  canonicalJson,
  modelProviderCid,
  type AdvertService,
  type AdvertServiceOptions,
  type AdvertState,
  type AdvertDropReason,
} from "./adverts.js";
export { installSwarmProcessGuards } from "./process-guards.js";
export { VERIFY_PROTOCOL_ID, VERIFY_LIMITS, verifyRequestSchema, verifyResponseSchema } from "./verify-protocol.js";
export type { VerifyRequest, VerifyRequestInput, VerifyResponse, VerifyErrorCode } from "./verify-protocol.js";
export {
  registerVerifyHandler,
  requestVerification,
  signAttestation,
  verifyAttestationSignature,
  attestationSigner,
  type VerifyHandler,
  type VerifyHandlerOptions,
  type VerifyingModel,
  type RequestVerificationOptions,
} from "./verify-service.js";
export { RECEIPT_PROTOCOL_ID, RECEIPT_EXCHANGE_LIMITS, RECEIPT_REJECTION_CODES, receiptRequestFrameSchema, receiptAnswerFrameSchema } from "./receipt-protocol.js";
export type { ReceiptRequestFrame, ReceiptAnswerFrame, ReceiptRejectionCode } from "./receipt-protocol.js";
export { registerReceiptHandler, sendReceipt, sendAttestation, compareWithFinishedJob, type ReceiptHandler, type ReceiptHandlerOptions, type SendReceiptOptions } from "./receipt-exchange.js";
export { PIECES_PROTOCOL_ID, PIECES_LIMITS, PiecesError, piecesRequestSchema, piecesAnswerSchema } from "./pieces-protocol.js";
export type { PiecesErrorCode, PiecesRequest, PiecesAnswer } from "./pieces-protocol.js";
export { registerPiecesHandler, type PiecesServer, type PiecesServerOptions, type PiecesServerStats, type SeededModel } from "./pieces-server.js";
export { openPeerPieceSource, type PieceSource, type PeerPieceSource, type PeerSourceOptions } from "./pieces-sources.js";
export { createHttpPieceSource, type HttpPieceSourceOptions } from "./pieces-http-source.js";
export { fetchPieces, type FetchPiecesOptions, type FetchPiecesSummary, type FetchProgress, type PieceFetchEvent } from "./pieces-fetcher.js";
export { createTokenBucket, createUploadSlots, type TokenBucket, type UploadCaps, type UploadSlots, type BucketTime } from "./pieces-upload-caps.js";
export { modelRootProviderCid } from "./pieces-provider.js";
export { DRAFT_PROTOCOL_ID, DRAFT_LIMITS, draftHelloSchema, draftProposeSchema, draftSyncSchema, draftRequestSchema, draftAnswerSchema } from "./draft-protocol.js";
export type { DraftHello, DraftPropose, DraftSync, DraftRequest, DraftAnswer } from "./draft-protocol.js";
export { DraftError, type DraftErrorCode } from "./draft-errors.js";
export { registerDraftHandler, type DraftHandler, type DraftHandlerOptions, type DraftingModel } from "./draft-worker.js";
export { createDraftClient, type DraftClient, type DraftClientOptions, type DraftLease, type DraftPeer } from "./draft-client.js";
