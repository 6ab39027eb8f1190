import { z } from "zod";
import type { Logger } from "../common/index.js";
import { loadSpeculativeModel, type GenerateRequest, type GenerationResult, type GenerationStream, type LoadedModel, type SpeculationStats, type SpeculativeModel } from "../engine/index.js";
import { createDraftPairing, type CandidateSource, type DraftPairingEstimate, type LatencyProbe } from "../scheduler/index.js";
import { createDraftClient, registerDraftHandler, type DraftClient, type DraftHandler, type DraftLease, type SwarmLibp2p } from "../swarm/index.js";

/**
 * Speculative decoding for a node (issue #10), in both roles:
 * - draft: the node answers `/inferswarm/draft/1.0.0` with some of the models it serves (small or quantized
 *   ones that share a target's tokenizer);
 * - verify: jobs for a served target model are decoded with a paired draft node when one is near enough
 *   to pay. The job protocol does not change: the worker's answer is its own greedy answer either way.
 */

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

export const speculationConfigSchema = z
  .object({
    /** Served models this node drafts with for other nodes' verifiers. */
    draftModels: z.array(sha256Hex).max(8).default([]),
    /** Draft sessions (verifier jobs) served at once per draft model. */
    draftSessions: z.number().int().min(1).max(8).default(2),
    /** Served target models decoded with a draft, and the draft models that share each one's tokenizer. */
    verify: z.array(z.object({ targetSha256: sha256Hex, draftSha256s: z.array(sha256Hex).min(1).max(8) }).strict()).max(8).default([]),
    /**
     * A draft is paired only when the estimate (from adverts' speeds and the ping) promises this speedup;
     * 0 pairs any draft near enough and leaves it to the adaptive draft length.
     */
    minExpectedSpeedup: z.number().min(0).max(100).default(1.1),
    /** A draft farther than this round trip is never paired. */
    maxDraftRttMs: z.number().positive().max(1_000).default(50),
    /** The longest wait for one proposal; past it the job goes on plainly. */
    proposalDeadlineMs: z.number().int().min(20).max(10_000).default(500),
  })
  .strict();

export type SpeculationConfig = z.infer<typeof speculationConfigSchema>;

export interface NodeSpeculationDeps {
  config: SpeculationConfig;
  libp2p: SwarmLibp2p;
  selfPeerId: string;
  /** The models this node serves, with their measured decode speed (tok/s). */
  served: readonly { model: LoadedModel; tokensPerSecond: number }[];
  /** Adverts and DHT providers (the scheduler's candidate source): where draft nodes are found. */
  candidates: CandidateSource;
  latency: LatencyProbe;
  logger: Logger;
  /** Called once per speculative job with what the draft did, for logs and the dashboard. */
  onSpeculation?: (event: { modelSha256: string; draftPeerId: string | undefined; stats: SpeculationStats }) => void;
}

export interface NodeSpeculation {
  /** The model the job handler should serve: speculates for a configured target, else `model` itself. */
  wrap(model: LoadedModel): LoadedModel;
  /** Draft sessions being served for other nodes. */
  draftSessions(): number;
  /** The policy's admission for every model speculation loaded (verifiers and drafts): a paused node drafts for no one. */
  setAdmission(admission: { accepting: boolean; maxActiveJobs: number; reason?: string }): void;
  /** Ends speculative jobs and draft sessions (a game started). */
  abortRunning(reason: string): void;
  stop(): Promise<void>;
}

/** How long a chosen draft is reused before pairing again, and how long a failed one is avoided. */
const PAIRING_TTL_MS = 30_000;
const FAILED_DRAFT_BACKOFF_MS = 60_000;

export async function startNodeSpeculation(deps: NodeSpeculationDeps): Promise<NodeSpeculation> {
  const logger = deps.logger.child({ module: "node", component: "speculation" });
  const { config } = deps;
  const loaded: SpeculativeModel[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const bySha = new Map(deps.served.map((s) => [s.model.info.sha256, s]));

  try {
    // Draft role: a second load of the served file (mmapped: the weights' pages are shared) whose context
    // holds draft sessions, so drafting never takes a job slot.
    const drafting = new Map<string, SpeculativeModel>();
    for (const sha of config.draftModels) {
      const served = bySha.get(sha);
      if (!served) throw new Error(`speculation.draftModels names ${sha}, which this node does not serve; serve it or remove it.`);
      const model = await loadSpeculativeModel(served.model.info.path, { threads: served.model.threads, sequences: config.draftSessions, logger });
      loaded.push(model);
      drafting.set(sha, model);
    }
    let draftHandler: DraftHandler | undefined;
    if (drafting.size > 0) {
      draftHandler = await registerDraftHandler(deps.libp2p, { resolveDraftModel: (sha) => drafting.get(sha), logger });
      const handler = draftHandler;
      cleanups.push(() => handler.stop());
    }

    // Verify role.
    const verifiers = new Map<string, { verifier: SpeculativeModel; draftSha256s: string[]; tokensPerSecond: number }>();
    for (const entry of config.verify) {
      const served = bySha.get(entry.targetSha256);
      if (!served) throw new Error(`speculation.verify names target ${entry.targetSha256}, which this node does not serve; serve it or remove it.`);
      const verifier = await loadSpeculativeModel(served.model.info.path, { threads: served.model.threads, contextSize: served.model.contextSize, sequences: 1, logger });
      loaded.push(verifier);
      verifiers.set(entry.targetSha256, { verifier, draftSha256s: entry.draftSha256s, tokensPerSecond: served.tokensPerSecond });
    }
    const client: DraftClient | undefined = verifiers.size > 0 ? createDraftClient(deps.libp2p, { logger, proposalDeadlineMs: config.proposalDeadlineMs }) : undefined;
    if (client) cleanups.push(() => client.close());
    const pairing = createDraftPairing({ candidates: deps.candidates, latency: deps.latency, selfPeerId: deps.selfPeerId });
    const chosen = new Map<string, { estimate: DraftPairingEstimate | undefined; at: number }>();
    const failedUntil = new Map<string, number>();

    async function leaseDraft(targetSha: string, entry: { verifier: SpeculativeModel; draftSha256s: string[]; tokensPerSecond: number }, signal: AbortSignal | undefined): Promise<DraftLease | undefined> {
      if (!client) return undefined;
      const now = Date.now();
      let cached = chosen.get(targetSha);
      if (!cached || now - cached.at > PAIRING_TTL_MS || (cached.estimate && (failedUntil.get(cached.estimate.peerId) ?? 0) > now)) {
        const exclude = new Set([...failedUntil].filter(([, until]) => until > now).map(([peerId]) => peerId));
        const estimate = await pairing
          .pick({ draftModels: entry.draftSha256s, exclude, verifierTokensPerSecond: entry.tokensPerSecond, maxRttMs: config.maxDraftRttMs, minSpeedup: config.minExpectedSpeedup, signal })
          .catch((error: unknown) => {
            logger.debug({ err: error }, "draft pairing failed");
            return undefined;
          });
        cached = { estimate, at: now };
        chosen.set(targetSha, cached);
        if (estimate) logger.info({ target: targetSha.slice(0, 12), draft: estimate.peerId, rttMs: estimate.rttMs, expectedSpeedup: estimate.expectedSpeedup }, "paired with a draft");
      }
      const estimate = cached.estimate;
      if (!estimate) return undefined;
      try {
        return await client.lease({ peerId: estimate.peerId, draftModelSha256: estimate.draftModelSha256 }, { vocabularySize: entry.verifier.info.vocabularySize, signal });
      } catch (error) {
        failedUntil.set(estimate.peerId, Date.now() + FAILED_DRAFT_BACKOFF_MS);
        logger.info({ err: error, draft: estimate.peerId }, "draft unavailable; decoding alone");
        return undefined;
      }
    }

    function wrap(model: LoadedModel): LoadedModel {
      const entry = verifiers.get(model.info.sha256);
      if (!entry) return model;
      const { verifier } = entry;
      const generate = (request: GenerateRequest): GenerationStream => {
        // Sampled decoding is not speculated (no speculative-sampling acceptance rule yet).
        if ((request.sampling?.temperature ?? 0) > 0) return model.generate(request);
        let settle!: { resolve: (r: GenerationResult) => void; reject: (e: unknown) => void };
        const result = new Promise<GenerationResult>((resolve, reject) => (settle = { resolve, reject }));
        result.catch(() => undefined);
        return {
          result,
          async *[Symbol.asyncIterator]() {
            const lease = await leaseDraft(model.info.sha256, entry, request.signal);
            try {
              let speculative;
              let stream: GenerationStream;
              try {
                speculative = lease ? verifier.generate(request, { draft: lease }) : undefined;
                stream = speculative ?? model.generate(request);
              } catch (error) {
                settle.reject(error); // a bad request is refused before any token, as on the plain path
                throw error;
              }
              stream.result.then(settle.resolve, settle.reject);
              yield* stream;
              if (lease && speculative) deps.onSpeculation?.({ modelSha256: model.info.sha256, draftPeerId: lease.peerId, stats: speculative.stats() });
            } finally {
              if (lease) {
                if (!lease.usable()) failedUntil.set(lease.peerId, Date.now() + FAILED_DRAFT_BACKOFF_MS);
                lease.release();
              }
            }
          },
        };
      };
      return {
        ...model,
        generate,
        async generateText(request) {
          const stream = generate(request);
          for await (const _token of stream) {
            // drained; the result carries the text
          }
          return stream.result;
        },
        stats() {
          const own = model.stats();
          const extra = verifier.stats();
          return { ...own, active: own.active + extra.active, queued: own.queued + extra.queued };
        },
        setAdmission(admission) {
          model.setAdmission(admission);
          verifier.setAdmission(admission);
        },
        abortRunning(reason) {
          model.abortRunning(reason);
          verifier.abortRunning(reason);
        },
      };
    }

    return {
      wrap,
      draftSessions: () => draftHandler?.sessions() ?? 0,
      setAdmission(admission) {
        for (const model of loaded) model.setAdmission(admission);
      },
      abortRunning(reason) {
        for (const model of loaded) model.abortRunning(reason);
      },
      async stop() {
        for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.warn({ err: error }, "stopping speculation"));
        await Promise.all(loaded.map((model) => model.close()));
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await Promise.all(loaded.map((model) => model.close()));
    throw error;
  }
}
