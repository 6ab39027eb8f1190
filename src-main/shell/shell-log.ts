import { mkdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { pino, type Logger } from "pino";

export interface ShellLog {
  logger: Logger;
  file: string;
  /** Raw lines from the core's stdout/stderr (its own pino JSON), appended to the same file. */
  append(text: string): void;
  flush(): void;
}

/**
 * One log file for the app, `<dir>/inferswarm.log`: the main process's structured log plus the core's
 * output piped from its utilityProcess. A packaged app on Windows has no console to write to, and an owner
 * reporting a problem needs one file to send. The previous run's file is kept as `.1` once it passes
 * `maxBytes`, so the log stays bounded.
 */
export function openShellLog(options: { dir: string; alsoStderr: boolean; level?: string; maxBytes?: number; rotate?: boolean }): ShellLog {
  const file = path.join(options.dir, "inferswarm.log");
  mkdirSync(options.dir, { recursive: true });
  const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  if (options.rotate !== false && size > (options.maxBytes ?? 5 * 1024 * 1024)) {
    try {
      renameSync(file, `${file}.1`);
    } catch {
      // Windows refuses while another process has it open; the log then grows until the next start.
    }
  }
  const destination = pino.destination({ dest: file, sync: true, append: true });
  // Entries take every level; the logger's own level filters.
  const streams: pino.StreamEntry[] = [{ level: "trace", stream: destination }];
  if (options.alsoStderr) streams.push({ level: "trace", stream: process.stderr });
  const logger = pino({ name: "inferswarm-shell", level: options.level ?? "info" }, pino.multistream(streams));
  return {
    logger,
    file,
    append(text) {
      destination.write(text);
      if (options.alsoStderr) process.stderr.write(text);
    },
    flush: () => destination.flushSync(),
  };
}
