// The node module's door: the composition root shared by the headless CLI and the Electron utilityProcess.
export { startNode, type RunningNode, type NodeStatus, type NodeEvent, type ServedModel, type StartNodeDeps } from "./start-node.js";
export { nodeConfigSchema, servedModelSchema, parseNodeConfig, readNodeConfigFile, type NodeConfig, type NodeConfigInput, type ServedModelConfig } from "./node-config.js";
export { defaultNodePaths, type NodePaths } from "./node-paths.js";
export { spawnNodeProcess, type NodeProcess, type SpawnNodeOptions } from "./node-process.js";
export { createDashboardService, type DashboardService, type DashboardServiceOptions } from "./dashboard-service.js";
export { createCheatingModel, CHEAT_KINDS, type CheatKind } from "./cheating-model.js";
export { startNodeApi, type NodeApi } from "./node-api.js";
export { dashboardBridgeClient } from "./dashboard-bridge-client.js";
export { startNodeModels, type NodeModels, type NodeModelsOptions, type ModelDownload, type ModelFetchEvent, type FetchModelOptions } from "./node-models.js";
export { startNodeSpeculation, speculationConfigSchema, type NodeSpeculation, type NodeSpeculationDeps, type SpeculationConfig } from "./node-speculative.js";
