import { z } from "zod";

/** Gossipsub topic for capacity adverts; the version is part of the name so old nodes ignore new ones. */
export const ADVERT_TOPIC = "/inferswarm/adverts/1.0.0";

export const ADVERT_LIMITS = {
  maxBytes: 16 * 1024,
  maxModels: 32,
  /** Adverts older than this, or dated in the future by more than the skew, are dropped. */
  maxLifetimeMs: 60_000,
  maxClockSkewMs: 10_000,
  /** How often a node re-publishes while its state is unchanged. */
  republishIntervalMs: 10_000,
} as const;

export const advertisedModelSchema = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    name: z.string().min(1).max(128),
    quantization: z.string().min(1).max(32),
    contextSize: z.number().int().positive(),
    /** Measured greedy decode speed on this node (the calibration benchmark), not a guess. */
    tokensPerSecond: z.number().nonnegative(),
    pricePer1kTokens: z.number().nonnegative(),
  })
  .strict();

/** The signed body: what a node says about itself. The signature covers its canonical JSON bytes. */
export const capacityAdvertBodySchema = z
  .object({
    peerId: z.string().min(1).max(128),
    issuedAt: z.number().int().nonnegative(),
    expiresAt: z.number().int().nonnegative(),
    sequence: z.number().int().nonnegative(),
    models: z.array(advertisedModelSchema).max(ADVERT_LIMITS.maxModels),
    freeSlots: z.number().int().nonnegative(),
    queueLength: z.number().int().nonnegative(),
    /** The policy's decision, e.g. {contribute: false, reasonCode: "game-running"} (no owner details). */
    policy: z.object({ contribute: z.boolean(), reasonCode: z.string().max(64) }).strict(),
    /** Multiaddrs where the job protocol can be dialled. */
    addresses: z.array(z.string().max(256)).max(16),
  })
  .strict();

export const signedCapacityAdvertSchema = z
  .object({
    body: capacityAdvertBodySchema,
    /** Ed25519 signature by the peer's identity key over the body's canonical JSON, base64. */
    signature: z.string().min(1).max(256),
  })
  .strict();

export type AdvertisedModel = z.infer<typeof advertisedModelSchema>;
export type CapacityAdvertBody = z.infer<typeof capacityAdvertBodySchema>;
export type SignedCapacityAdvert = z.infer<typeof signedCapacityAdvertSchema>;
