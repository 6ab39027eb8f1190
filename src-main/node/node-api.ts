import path from "node:path";
import { createOpenAiGateway, loadOrCreateApiKey, type OpenAiGateway } from "../api/index.js";
import type { Logger } from "../common/index.js";
import { loadModelTokenizer, type ModelTokenizer } from "../engine/index.js";
import type { NodeConfig } from "./node-config.js";
import type { NodePaths } from "./node-paths.js";
import type { RunningNode } from "./start-node.js";

export interface NodeApi {
  readonly gateway: OpenAiGateway;
  /** The key this node generated on its first start (others may be configured in node.json). */
  readonly key: string;
  readonly keyFile: string;
  close(): Promise<void>;
}

/**
 * The OpenAI-compatible API of a running node (loopback, `config.api.port`): its requests go into the swarm
 * through the node's scheduler, so they are paid and verified like any other. It can serve the models whose
 * GGUF this node holds (the ones it serves, plus `api.models`): the gateway tokenizes, tokens being what
 * workers and validators see.
 */
export async function startNodeApi(node: RunningNode, config: NodeConfig, paths: NodePaths, logger: Logger): Promise<NodeApi> {
  const keyFile = path.join(paths.dataDir, "api.key");
  const key = await loadOrCreateApiKey(keyFile);
  const files = [...new Set([...node.served.map((s) => s.model.info.path), ...config.api.models])];
  const tokenizers: ModelTokenizer[] = [];
  try {
    for (const file of files) tokenizers.push(await loadModelTokenizer(file, { logger }));
    const gateway = await createOpenAiGateway({
      scheduler: node.scheduler,
      adverts: node.adverts,
      tokenizers,
      keys: [{ key, label: "node" }, ...config.api.keys],
      maxConcurrentRequestsPerKey: config.api.maxConcurrentRequestsPerKey,
      port: config.api.port,
      logger,
    });
    return {
      gateway,
      key,
      keyFile,
      async close() {
        await gateway.close();
        await Promise.all(tokenizers.map((t) => t.close()));
      },
    };
  } catch (error) {
    await Promise.all(tokenizers.map((t) => t.close()));
    throw error;
  }
}
