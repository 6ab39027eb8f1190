import type { NodeStatusView } from "../../src-contract/index.js";

/** A node that just started, waiting for the owner to go idle: the status the shell's tests start from. */
export const waitingNodeStatus: NodeStatusView = {
  peerId: "12D3KooWpeer",
  addresses: [],
  mode: "when-idle",
  resumeMode: "when-idle",
  tray: "waiting-for-idle",
  decision: null,
  models: [],
  peers: 0,
  workersSeen: 0,
  jobs: { answered: 0, failed: 0, gone: 0, tokensGenerated: 0 },
  startedAt: 1,
};
