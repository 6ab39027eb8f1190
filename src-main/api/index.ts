// The api module's door: the node's local HTTP servers (the dashboard bridge and the OpenAI-compatible API).
export { createDashboardServer, loadOrCreateDashboardToken, DASHBOARD_CSP, type DashboardServer, type DashboardServerOptions } from "./dashboard-server.js";
export { createOpenAiGateway, DEFAULT_OPENAI_PORT, type OpenAiGateway, type OpenAiGatewayOptions, type GatewayScheduler } from "./openai-gateway.js";
export { loadOrCreateApiKey, API_KEY_PREFIX, apiKeyConfigSchema, type ApiKeyConfig } from "./openai-api-keys.js";
export { OpenAiHttpError, type ApiErrorCode } from "./openai-errors.js";
export type { AdvertSource, GatewayTokenizer } from "./openai-models.js";
export {
  OPENAI_LIMITS,
  chatCompletionRequestSchema,
  completionRequestSchema,
  chatCompletionSchema,
  chatCompletionChunkSchema,
  completionSchema,
  modelListSchema,
  errorBodySchema,
  type ChatCompletionRequest,
  type CompletionRequest,
  type ChatCompletion,
  type ChatCompletionChunk,
  type Completion,
  type ModelList,
  type ErrorBody,
} from "./openai-schemas.js";
