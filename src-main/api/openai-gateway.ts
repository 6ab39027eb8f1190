import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { createSilentLogger, InferSwarmError, systemClock, type Clock, type Logger } from "../common/index.js";
import { newJobId as newRequesterJobId, type JobRun, type SchedulerJobRequest } from "../scheduler/index.js";
import { isAllowedHostHeader } from "./local-http-guards.js";
import { createApiKeys, type ApiKeyConfig, type ApiKeyState } from "./openai-api-keys.js";
import { apiErrorForFrameworkError, apiErrorForJobFailure, OpenAiHttpError } from "./openai-errors.js";
import { createModelCatalog, type AdvertSource, type GatewayTokenizer, type ResolvedModel } from "./openai-models.js";
import { parseBody, prepareChatJob, prepareCompletionJob, type PreparedJob } from "./openai-requests.js";
import { chatChunks, chatCompletionBody, completionBody, completionChunks, finishReasonOf, openSse, usageOf, type ResponseHead } from "./openai-responses.js";
import { chatCompletionRequestSchema, completionRequestSchema, OPENAI_LIMITS, type ModelList } from "./openai-schemas.js";

export const DEFAULT_OPENAI_PORT = 7481;

/** The requester side the gateway routes into (the node's Scheduler). */
export interface GatewayScheduler {
  runJob(request: SchedulerJobRequest, options?: { signal?: AbortSignal }): JobRun;
  backedOffUntil(peerId: string): number | undefined;
}

export interface OpenAiGatewayOptions {
  scheduler: GatewayScheduler;
  /** Fresh capacity adverts: which models the swarm serves, their contexts, who is paused. */
  adverts: AdvertSource;
  /** One per model this gateway can serve: tokens are authoritative, so it must tokenize locally. */
  tokenizers: readonly GatewayTokenizer[];
  /** Accepted bearer keys (at least one). */
  keys: readonly ApiKeyConfig[];
  /** Requests in flight per key unless the key says otherwise (default 8); more get 429. */
  maxConcurrentRequestsPerKey?: number;
  /**
   * Jobs in flight through this gateway, all keys together (default 32); more get 429. A requester's jobs
   * to one worker share one connection, and a worker resets job streams beyond 32 per connection
   * (the job protocol's `maxInboundStreams`): such a reset looks like a broken worker, not a busy one.
   */
  maxConcurrentJobs?: number;
  /** Loopback only by default: whoever reaches the port spends the swarm's compute. */
  host?: string;
  /** Default 7481 (the dashboard is 7480); 0 picks a free port. */
  port?: number;
  /** Largest request body (default 1 MiB); larger is 413. */
  maxBodyBytes?: number;
  /** Open sockets at once (default 512); Node refuses more. */
  maxConnections?: number;
  /** A client has this long to send its whole request (default 30 s); answers may stream longer. */
  requestTimeoutMs?: number;
  /** An SSE comment is sent after this much silence (default 15 s), e.g. while a failover waits for a worker. */
  sseKeepaliveMs?: number;
  /** A streaming client that reads nothing for this long is disconnected and its job aborted (default 60 s). */
  sseWriteStallMs?: number;
  logger?: Logger;
  clock?: Clock;
  newJobId?: () => string;
}

export interface OpenAiGateway {
  /** http://host:port */
  readonly origin: string;
  /** What clients take as `baseURL`: origin + "/v1". */
  readonly baseUrl: string;
  readonly port: number;
  /** Requests in flight (admitted past validation and the per-key limit). */
  activeRequests(): number;
  close(): Promise<void>;
}

/** A worker paused by its owner says so in its advert; the next advert (every 10 s) is the earliest news. */
const PAUSED_RETRY_AFTER_SECONDS = 10;
const MAX_RETRY_AFTER_SECONDS = 60;

type Endpoint = "chat" | "completion";

/**
 * The OpenAI-compatible API: GET /v1/models, POST /v1/completions and /v1/chat/completions (streamed as
 * server-sent events or not), routed into the swarm through the scheduler. See src-main/api/README.md.
 */
export async function createOpenAiGateway(options: OpenAiGatewayOptions): Promise<OpenAiGateway> {
  const logger = (options.logger ?? createSilentLogger()).child({ module: "api", server: "openai" });
  const host = options.host ?? "127.0.0.1";
  const clock = options.clock ?? systemClock;
  const sseTiming = { keepaliveMs: options.sseKeepaliveMs ?? 15_000, writeStallMs: options.sseWriteStallMs ?? 60_000 };
  const newJobId = options.newJobId ?? newRequesterJobId;
  const keys = createApiKeys(options.keys, options.maxConcurrentRequestsPerKey ?? 8);
  const catalog = createModelCatalog(options.tokenizers, options.adverts);
  const { scheduler } = options;
  const startedAt = Math.floor(clock.now() / 1000);
  const keyOf = new WeakMap<FastifyRequest, ApiKeyState>();
  const maxConcurrentJobs = options.maxConcurrentJobs ?? 32;
  let jobsInFlight = 0;

  const app = Fastify({
    bodyLimit: options.maxBodyBytes ?? OPENAI_LIMITS.maxBodyBytes,
    logger: false,
    return503OnClosing: true,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Closing the gateway ends open streams; their jobs are aborted through the disconnect path.
    forceCloseConnections: true,
  });

  let port = 0;
  app.addHook("onRequest", async (request, reply) => {
    reply.header("X-Content-Type-Options", "nosniff");
    reply.header("Cache-Control", "no-store");
    if (!isAllowedHostHeader(request.headers.host, host, port)) {
      return reply.code(421).send(new OpenAiHttpError("API_BAD_HOST", `This API answers only on ${host}:${port}.`).body());
    }
    const key = keys.authenticate(request.headers.authorization);
    if (!key) {
      const error = new OpenAiHttpError("API_UNAUTHORIZED", "Incorrect or missing API key: send Authorization: Bearer <key>, with the key the node printed (it is kept in <dataDir>/api.key).");
      return reply.code(401).header("WWW-Authenticate", 'Bearer realm="inferswarm"').send(error.body());
    }
    keyOf.set(request, key);
  });

  app.setErrorHandler((error, request, reply) => {
    const apiError = error instanceof OpenAiHttpError ? error : apiErrorForFrameworkError(error as { statusCode?: number; message: string });
    if (apiError.status >= 500) logger.error({ err: error, url: request.url }, "request failed");
    if (apiError.retryAfterSeconds !== undefined) reply.header("Retry-After", String(apiError.retryAfterSeconds));
    return reply.code(apiError.status).send(apiError.body());
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(new OpenAiHttpError("API_NOT_FOUND", `There is no ${request.method} ${request.url.split("?")[0]}; this API has GET /v1/models, POST /v1/completions and POST /v1/chat/completions.`).body()),
  );

  app.get("/v1/models", async (): Promise<ModelList> => ({ object: "list", data: catalog.list(startedAt) }));

  app.get("/v1/models/:model", async (request: FastifyRequest<{ Params: { model: string } }>) => {
    const listed = catalog.list(startedAt).find((model) => model.id === request.params.model || model.sha256 === request.params.model);
    if (!listed) throw new OpenAiHttpError("API_MODEL_NOT_FOUND", `The swarm serves no model ${request.params.model} that this gateway can tokenize; GET /v1/models lists them.`, { param: "model" });
    return listed;
  });

  app.post("/v1/chat/completions", (request, reply) => serve("chat", request, reply));
  app.post("/v1/completions", (request, reply) => serve("completion", request, reply));

  /** Seconds until a worker of the model may take jobs again; undefined when no fresh advert lists it at all. */
  function saturatedRetryAfter(sha256: string): number | undefined {
    const serving = options.adverts.freshAdverts().filter((advert) => advert.models.some((model) => model.sha256 === sha256));
    if (serving.length === 0) return undefined;
    const now = clock.now();
    let soonest: number | undefined;
    for (const advert of serving) {
      if (!advert.policy.contribute) continue;
      const until = scheduler.backedOffUntil(advert.peerId);
      // Eligible now: the swarm was full a moment ago (every worker's queue), not for long.
      if (until === undefined) return 1;
      soonest = Math.min(soonest ?? until, until);
    }
    const seconds = soonest === undefined ? PAUSED_RETRY_AFTER_SECONDS : Math.ceil((soonest - now) / 1000);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds));
  }

  async function serve(endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const key = keyOf.get(request)!;
    let model: ResolvedModel;
    let prepared: PreparedJob;
    if (endpoint === "chat") {
      const body = parseBody(chatCompletionRequestSchema, request.body);
      model = catalog.resolve(body.model);
      prepared = prepareChatJob(body, model);
    } else {
      const body = parseBody(completionRequestSchema, request.body);
      model = catalog.resolve(body.model);
      prepared = prepareCompletionJob(body, model);
    }
    const releaseKey = keys.tryAcquire(key);
    if (!releaseKey) {
      throw new OpenAiHttpError("API_CONCURRENCY_LIMIT", `This API key already has ${key.maxConcurrentRequests} requests in flight; wait for one to finish.`, { retryAfterSeconds: 1 });
    }
    if (jobsInFlight >= maxConcurrentJobs) {
      releaseKey();
      throw new OpenAiHttpError("API_GATEWAY_SATURATED", `This gateway already runs ${maxConcurrentJobs} jobs; retry after the Retry-After delay.`, { retryAfterSeconds: 1 });
    }
    jobsInFlight++;
    const release = () => {
      jobsInFlight--;
      releaseKey();
    };
    // A client that goes away (closed socket, aborted fetch) ends its job in the swarm.
    const disconnected = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) disconnected.abort(new InferSwarmError("API_CLIENT_GONE", "The client closed the connection."));
    };
    reply.raw.on("close", onClose);
    // Gone already (while the prompt was being tokenized): the close event will not come again.
    if (reply.raw.destroyed || request.raw.socket?.destroyed) onClose();
    try {
      return await runJob(endpoint, model, prepared, reply, disconnected.signal, key);
    } finally {
      release();
    }
  }

  async function runJob(endpoint: Endpoint, model: ResolvedModel, prepared: PreparedJob, reply: FastifyReply, signal: AbortSignal, key: ApiKeyState): Promise<unknown> {
    const jobId = newJobId();
    const head: ResponseHead = { id: `${endpoint === "chat" ? "chatcmpl" : "cmpl"}-${jobId}`, created: Math.floor(clock.now() / 1000), model: model.id, modelSha256: model.sha256 };
    const run = scheduler.runJob(
      { type: "request", jobId, modelSha256: model.sha256, prompt: { tokens: prepared.promptTokens }, sampling: prepared.sampling, maxTokens: prepared.maxTokens, stop: prepared.stop },
      { signal },
    );
    const failure = (error: unknown) => apiErrorForJobFailure(error, { modelId: model.id, saturatedRetryAfter: () => saturatedRetryAfter(model.sha256) });
    logger.debug({ jobId, key: key.label, model: model.id, promptTokens: prepared.promptTokens.length, maxTokens: prepared.maxTokens, stream: prepared.stream }, "job submitted");
    reply.header("x-request-id", jobId);

    if (!prepared.stream) {
      try {
        const result = await run.result;
        const bodyOf = endpoint === "chat" ? chatCompletionBody : completionBody;
        return reply.send(bodyOf(head, result.text, result, prepared.promptTokens.length));
      } catch (error) {
        if (signal.aborted) return abandon(reply, jobId);
        throw failure(error);
      }
    }

    // Nothing is sent until the first token (or the end): a job the swarm cannot take still gets its status code.
    const tokens = run[Symbol.asyncIterator]();
    let step: IteratorResult<{ text: string }>;
    try {
      step = await tokens.next();
    } catch (error) {
      if (signal.aborted) return abandon(reply, jobId);
      throw failure(error);
    }
    reply.hijack();
    const sse = openSse(reply.raw, stringHeaders(reply.getHeaders()), sseTiming);
    const chunks = endpoint === "chat" ? chatChunks(head) : completionChunks(head);
    try {
      const opening = chunks.opening();
      if (opening) await sse.data(opening);
      // Bounded: the scheduler ends the stream after at most max_tokens tokens, or fails it.
      while (!step.done) {
        if (step.value.text.length > 0) await sse.data(chunks.text(step.value.text));
        step = await tokens.next();
      }
      const result = await run.result;
      await sse.data(chunks.finish(finishReasonOf(result.finishReason)));
      if (prepared.includeUsage) await sse.data(chunks.usage(usageOf(result, prepared.promptTokens.length)));
      await sse.data("[DONE]");
    } catch (error) {
      if (signal.aborted || sse.closed) {
        logger.debug({ jobId }, "client left mid-stream; job aborted");
      } else {
        // Headers are sent: the error becomes an SSE error event, and the stream ends without [DONE].
        const apiError = failure(error);
        logger.info({ jobId, code: apiError.code }, "job failed mid-stream");
        await sse.error(apiError.body());
      }
    } finally {
      sse.end();
      void tokens.return?.();
    }
    return reply;
  }

  function abandon(reply: FastifyReply, jobId: string): FastifyReply {
    logger.debug({ jobId }, "client left before the answer; job aborted");
    reply.hijack();
    if (!reply.raw.destroyed) reply.raw.destroy();
    return reply;
  }

  try {
    await app.listen({ host, port: options.port ?? DEFAULT_OPENAI_PORT });
  } catch (error) {
    await app.close();
    throw new InferSwarmError("API_LISTEN_FAILED", `The OpenAI-compatible API could not listen on ${host}:${options.port ?? DEFAULT_OPENAI_PORT} (${(error as Error).message}); pick another port.`, { cause: error });
  }
  app.server.maxConnections = options.maxConnections ?? 512;
  const address = app.server.address();
  port = typeof address === "object" && address ? address.port : 0;
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.info({ origin, models: options.tokenizers.length }, "OpenAI-compatible API listening");

  return {
    origin,
    baseUrl: `${origin}/v1`,
    port,
    activeRequests: () => keys.active(),
    close: () => app.close(),
  };
}

function stringHeaders(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])));
}
