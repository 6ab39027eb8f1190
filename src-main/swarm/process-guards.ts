import type { Logger } from "../common/index.js";

let installed = false;

/** libp2p internals that reject without a listener when a timer or a closing stream wins a race. */
const STRAY_NAMES = new Set(["TimeoutError", "AbortError", "UnexpectedEOFError", "StreamResetError", "StreamStateError"]);

function isStrayLibp2pRejection(reason: unknown): boolean {
  return reason instanceof Error && STRAY_NAMES.has(reason.name);
}

/**
 * js-libp2p can leave a TimeoutError/AbortError rejection unhandled (seen from the connection monitor
 * under sustained streaming), and Node's default is to crash on it. Those are logged; any other
 * unhandled rejection keeps Node's behaviour (crash), because it is a real bug. Call once per process.
 */
export function installSwarmProcessGuards(logger: Logger): void {
  if (installed) return;
  installed = true;
  const log = logger.child({ module: "swarm" });
  process.on("unhandledRejection", (reason) => {
    if (isStrayLibp2pRejection(reason)) {
      log.warn({ err: reason }, "ignored a stray libp2p rejection");
      return;
    }
    // Re-throw from a fresh task so the process fails as it would without this handler.
    setImmediate(() => {
      throw reason instanceof Error ? reason : new Error(`Unhandled rejection: ${String(reason)}`);
    });
  });
}
