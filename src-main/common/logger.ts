import { pino, type Logger } from "pino";

export type { Logger };

/**
 * One structured logger per process; modules take a child (`logger.child({module: "engine"})`) through
 * their factory. Prompt text is never logged by default: log lengths and hashes instead.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? "inferswarm",
    level: options.level ?? process.env.INFERSWARM_LOG_LEVEL ?? "info",
  }, pino.destination(2));
}

/** A logger that drops everything: for tests and library callers that bring none. */
export function createSilentLogger(): Logger {
  return pino({ level: "silent" });
}
