import envPaths from "env-paths";
import path from "node:path";

export interface NodePaths {
  /** Settings the owner edits: node.json, the swarm key. */
  configDir: string;
  /** State the node keeps: identity key, ledger, calibration, model cache. */
  dataDir: string;
}

/**
 * The platform's usual places (XDG on Linux, ~/Library/Application Support on macOS, %APPDATA% on
 * Windows); `INFERSWARM_HOME` puts both under one folder (tests, several nodes on one machine).
 */
export function defaultNodePaths(env: NodeJS.ProcessEnv = process.env): NodePaths {
  if (env.INFERSWARM_HOME) return { configDir: path.join(env.INFERSWARM_HOME, "config"), dataDir: path.join(env.INFERSWARM_HOME, "data") };
  const paths = envPaths("inferswarm", { suffix: "" });
  return { configDir: paths.config, dataDir: paths.data };
}
