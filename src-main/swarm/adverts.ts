import type { GossipSub, Message, TopicValidatorFn } from "@libp2p/gossipsub";
import { TopicValidatorResult } from "@libp2p/gossipsub";
import type { PeerId, PrivateKey } from "@libp2p/interface";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { canonicalJson, signCanonical, verifyCanonical, type Logger } from "../common/index.js";
import type { CandidateSource, WorkerCandidate } from "../scheduler/index.js";
import { ADVERT_LIMITS, ADVERT_TOPIC, signedCapacityAdvertSchema, type AdvertisedModel, type CapacityAdvertBody, type SignedCapacityAdvert } from "./capacity-advert.js";
import type { SwarmLibp2p } from "./swarm-node.js";

/** What a node says about itself; the advert service adds identity, times, sequence and signature. */
export interface AdvertState {
  models: AdvertisedModel[];
  freeSlots: number;
  queueLength: number;
  policy: { contribute: boolean; reasonCode: string };
}

export type AdvertDropReason = "oversized" | "malformed" | "unsigned-message" | "sender-mismatch" | "bad-signature" | "expired" | "future" | "stale-sequence" | "table-full";

export interface AdvertServiceOptions {
  logger: Logger;
  initialState: AdvertState;
  /** Milliseconds since the epoch; adverts carry wall-clock times. */
  now?: () => number;
  republishIntervalMs?: number;
  /** Lifetime written into our adverts (bounded by ADVERT_LIMITS.maxLifetimeMs). */
  advertLifetimeMs?: number;
  /** Longest DHT provider lookup in `candidates()`. */
  providerLookupMs?: number;
  maxProviders?: number;
  /** Peers whose adverts are kept; beyond it expired ones are pruned and new peers ignored. */
  maxPeers?: number;
}

export interface AdvertService extends CandidateSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Changes what we advertise and publishes at once; new served models are also provided in the DHT. */
  updateAdvert(state: Partial<AdvertState>): void;
  /** Signs and publishes the current state now (also done on the republish timer). */
  publishNow(): Promise<void>;
  /** The latest valid advert of a peer, fresh or not. */
  advertOf(peerId: string): CapacityAdvertBody | undefined;
  /** Fresh adverts of other peers. */
  freshAdverts(): CapacityAdvertBody[];
  /** What a peer's fresh advert says about one model (its price, speed, context), if it serves it. */
  advertisedModel(peerId: string, modelSha256: string): AdvertisedModel | undefined;
  /** Adverts refused, by reason (for tests and logs). */
  dropCounts(): Readonly<Record<AdvertDropReason, number>>;
}

/** The canonical JSON the signature covers (keys sorted, no whitespace). */
export { canonicalJson };

export async function signAdvert(body: CapacityAdvertBody, privateKey: PrivateKey): Promise<SignedCapacityAdvert> {
  return { body, signature: await signCanonical(body, privateKey) };
}

export async function verifyAdvertSignature(advert: SignedCapacityAdvert): Promise<boolean> {
  return (await verifyCanonical(advert.body, advert.body.peerId, advert.signature)) === "ok";
}

/** The DHT key under which workers of a model provide: CIDv1 raw of sha256 of the model's hash string. */
export async function modelProviderCid(modelSha256: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(modelSha256)));
}

export function createAdvertService(node: SwarmLibp2p, privateKey: PrivateKey, options: AdvertServiceOptions): AdvertService {
  const logger = options.logger.child({ module: "swarm", component: "adverts" });
  const now = options.now ?? Date.now;
  const republishIntervalMs = options.republishIntervalMs ?? ADVERT_LIMITS.republishIntervalMs;
  const lifetimeMs = Math.min(options.advertLifetimeMs ?? ADVERT_LIMITS.maxLifetimeMs, ADVERT_LIMITS.maxLifetimeMs);
  const providerLookupMs = options.providerLookupMs ?? 2_000;
  const maxProviders = options.maxProviders ?? 20;
  const maxPeers = options.maxPeers ?? 10_000;
  const pubsub = node.services.pubsub as GossipSub;
  const selfId = node.peerId.toString();
  const latest = new Map<string, CapacityAdvertBody>();
  const drops: Record<AdvertDropReason, number> = {
    oversized: 0,
    malformed: 0,
    "unsigned-message": 0,
    "sender-mismatch": 0,
    "bad-signature": 0,
    expired: 0,
    future: 0,
    "stale-sequence": 0,
    "table-full": 0,
  };
  let state: AdvertState = { ...options.initialState };
  let sequence = 0;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const provided = new Set<string>();

  const drop = (reason: AdvertDropReason, from: string | undefined): TopicValidatorResult => {
    drops[reason]++;
    logger.debug({ reason, from }, "advert dropped");
    // Ignore what may be honest (clock skew, reordering); reject what cannot be, so gossipsub
    // neither forwards it nor keeps trusting the peer that relayed it.
    return reason === "expired" || reason === "future" || reason === "stale-sequence" || reason === "table-full" ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject;
  };

  async function validate(message: Message): Promise<TopicValidatorResult> {
    if (message.type !== "signed") return drop("unsigned-message", undefined);
    const from = message.from.toString();
    if (message.data.byteLength > ADVERT_LIMITS.maxBytes) return drop("oversized", from);
    let advert: SignedCapacityAdvert;
    try {
      const parsed = signedCapacityAdvertSchema.safeParse(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(message.data)));
      if (!parsed.success) return drop("malformed", from);
      advert = parsed.data;
    } catch {
      return drop("malformed", from);
    }
    const body = advert.body;
    if (body.peerId !== from) return drop("sender-mismatch", from);
    if (body.expiresAt < body.issuedAt || body.expiresAt - body.issuedAt > ADVERT_LIMITS.maxLifetimeMs) return drop("malformed", from);
    if (!(await verifyAdvertSignature(advert))) return drop("bad-signature", from);
    const at = now();
    if (body.expiresAt <= at) return drop("expired", from);
    if (body.issuedAt > at + ADVERT_LIMITS.maxClockSkewMs) return drop("future", from);
    const previous = latest.get(from);
    if (previous && body.sequence <= previous.sequence) return drop("stale-sequence", from);
    if (!previous && latest.size >= maxPeers) pruneExpired();
    if (!previous && latest.size >= maxPeers) return drop("table-full", from);
    latest.set(from, body);
    return TopicValidatorResult.Accept;
  }

  const validator: TopicValidatorFn = (_propagationSource: PeerId, message: Message) => validate(message);

  function body(): CapacityAdvertBody {
    const issuedAt = now();
    // Time-based and monotonic, so a restarted node's adverts are not taken for stale ones.
    sequence = Math.max(sequence + 1, issuedAt);
    return {
      peerId: selfId,
      issuedAt,
      expiresAt: issuedAt + lifetimeMs,
      sequence,
      models: state.models,
      freeSlots: state.freeSlots,
      queueLength: state.queueLength,
      policy: state.policy,
      addresses: node
        .getMultiaddrs()
        .map((address) => address.toString())
        .filter((address) => address.length <= 256)
        .slice(0, 16),
    };
  }

  async function publishNow() {
    if (!running) return;
    const advert = await signAdvert(body(), privateKey);
    const bytes = new TextEncoder().encode(JSON.stringify(advert));
    if (bytes.byteLength > ADVERT_LIMITS.maxBytes) {
      logger.error({ bytes: bytes.byteLength }, "our advert exceeds the size limit; advertise fewer models or addresses");
      return;
    }
    await pubsub.publish(ADVERT_TOPIC, bytes);
  }

  function publishSoon() {
    publishNow().catch((error: unknown) => logger.warn({ err: error }, "advert publish failed"));
  }

  /** Provide each newly served model in the DHT, for peers that missed our adverts. */
  function provideModels() {
    for (const model of state.models) {
      if (provided.has(model.sha256)) continue;
      provided.add(model.sha256);
      void modelProviderCid(model.sha256)
        .then((cid) => node.contentRouting.provide(cid))
        .then(() => logger.debug({ model: model.sha256 }, "provided model in the DHT"))
        .catch((error: unknown) => {
          provided.delete(model.sha256);
          if (running) logger.warn({ err: error, model: model.sha256 }, "DHT provide failed; will retry on the next advert change");
        });
    }
  }

  function pruneExpired() {
    for (const [peerId, advert] of latest) if (!isFresh(advert)) latest.delete(peerId);
  }

  function isFresh(advert: CapacityAdvertBody): boolean {
    return advert.expiresAt > now();
  }

  return {
    async start() {
      if (running) return;
      running = true;
      pubsub.topicValidators.set(ADVERT_TOPIC, validator);
      pubsub.subscribe(ADVERT_TOPIC);
      timer = setInterval(() => {
        publishSoon();
        provideModels();
      }, republishIntervalMs);
      publishSoon();
      provideModels();
    },
    async stop() {
      running = false;
      clearInterval(timer);
      if (pubsub.topicValidators.get(ADVERT_TOPIC) === validator) pubsub.topicValidators.delete(ADVERT_TOPIC);
      try {
        pubsub.unsubscribe(ADVERT_TOPIC);
      } catch {
        // the node may already be stopped
      }
    },
    updateAdvert(partial) {
      state = { ...state, ...partial };
      publishSoon();
      provideModels();
    },
    publishNow,
    advertOf: (peerId) => latest.get(peerId),
    freshAdverts: () => [...latest.values()].filter(isFresh),
    advertisedModel(peerId, modelSha256) {
      const advert = latest.get(peerId);
      return advert && isFresh(advert) ? advert.models.find((m) => m.sha256 === modelSha256) : undefined;
    },
    dropCounts: () => ({ ...drops }),
    async candidates(modelSha256, candidateOptions = {}): Promise<WorkerCandidate[]> {
      const fromAdverts = [...latest.values()]
        .filter((advert) => isFresh(advert) && advert.policy.contribute && advert.models.some((model) => model.sha256 === modelSha256))
        .sort((a, b) => b.freeSlots - a.freeSlots || a.queueLength - b.queueLength);
      const result: WorkerCandidate[] = fromAdverts.map((advert) => ({ peerId: advert.peerId, advert }));
      const seen = new Set([selfId, ...result.map((candidate) => candidate.peerId)]);
      // Fresh adverts are enough to start: a DHT walk on every job would add its latency (tens of ms on
      // loopback, more on the internet) to every first token. The DHT is for peers that missed adverts.
      if (fromAdverts.length > 0) return result;

      const lookup = AbortSignal.timeout(providerLookupMs);
      const signal = candidateOptions.signal ? AbortSignal.any([candidateOptions.signal, lookup]) : lookup;
      try {
        const cid = await modelProviderCid(modelSha256);
        for await (const provider of node.contentRouting.findProviders(cid, { signal })) {
          const peerId = provider.id.toString();
          if (seen.has(peerId)) continue;
          seen.add(peerId);
          // A fresh advert saying "not now" or "not this model" outranks an old DHT record.
          const advert = latest.get(peerId);
          if (advert && isFresh(advert)) continue;
          result.push({ peerId });
          if (result.length - fromAdverts.length >= maxProviders) break;
        }
      } catch (error) {
        if (candidateOptions.signal?.aborted) throw error;
        // A lookup that timed out or found no route still leaves the advert candidates.
        logger.debug({ err: error, model: modelSha256 }, "provider lookup ended early");
      }
      return result;
    },
  };
}
