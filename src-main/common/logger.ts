import { pino, type Logger } from "pino";

export type { Logger };

/** The levels the CLI offers (pino's own names); "silent" logs nothing. */
export const LOG_LEVELS = ["error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["human", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Fields whose values may hold what a user asked or got back: never logged unless the owner asks. */
export const PROMPT_FIELDS: ReadonlySet<string> = new Set(["prompt", "promptText", "text", "messages"]);

/** Where log lines go: anything with a `write(line)` (stderr by default; tests capture it). */
export interface LogDestination {
  write(line: string): unknown;
}

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** "human" (default): one readable line per record; "json": pino's JSON lines. */
  format?: LogFormat;
  /** Log prompt fields as they are; off by default (they are replaced by "[redacted N chars]"). */
  logPrompts?: boolean;
  destination?: LogDestination;
}

/**
 * One structured logger per process; modules take a child (`logger.child({module: "engine"})`) through
 * their factory. Prompt text is never logged by default: fields named in PROMPT_FIELDS are redacted at any
 * depth, so a module that logs a request object by mistake still leaks only its length.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination(2);
  const formatted = options.format === "json" ? destination : humanLines(destination);
  return pino(
    { name: options.name ?? "inferswarm", level: options.level ?? process.env.INFERSWARM_LOG_LEVEL ?? "info" },
    // Redacting the finished line covers everything: the call's fields, child bindings, nested objects.
    options.logPrompts ? formatted : redactedLines(formatted),
  );
}

/** A logger that drops everything: for tests and library callers that bring none. */
export function createSilentLogger(): Logger {
  return pino({ level: "silent" });
}

const MAX_REDACTION_DEPTH = 8;

/** A copy of `record` with every prompt field replaced by "[redacted N chars]" (N: its text's length). */
export function redactPromptFields(record: Record<string, unknown>): Record<string, unknown> {
  return redactObject(record, 0);
}

function redactObject(record: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[key] = PROMPT_FIELDS.has(key) && value !== undefined && value !== null ? `[redacted ${textLength(value)} chars]` : redactValue(value, depth + 1);
  }
  return out;
}

function redactValue(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  // Not walked further, so not logged: a prompt could hide down there.
  if (depth > MAX_REDACTION_DEPTH) return "[nested too deep to log]";
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return redactObject(value as Record<string, unknown>, depth);
}

function textLength(value: unknown): number {
  if (typeof value === "string") return value.length;
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

/** Re-serializes each JSON line with its prompt fields redacted. */
function redactedLines(destination: LogDestination): LogDestination {
  return {
    write(line: string) {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        return destination.write(line);
      }
      if (record === null || typeof record !== "object" || Array.isArray(record)) return destination.write(line);
      return destination.write(`${JSON.stringify(redactPromptFields(record as Record<string, unknown>))}\n`);
    },
  };
}

const LEVEL_NAMES: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const HIDDEN_KEYS = new Set(["level", "time", "pid", "hostname", "name", "msg", "module"]);

/** Pino writes JSON lines; this turns each into `12:00:01.123 WARN engine: message key=value …`. */
function humanLines(destination: LogDestination): LogDestination {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return destination.write(line);
      }
      const time = typeof record.time === "number" ? new Date(record.time).toISOString().slice(11, 23) : "";
      const level = LEVEL_NAMES[record.level as number] ?? String(record.level);
      const module = typeof record.module === "string" ? `${record.module}: ` : "";
      const fields = Object.entries(record)
        .filter(([key]) => !HIDDEN_KEYS.has(key))
        .map(([key, value]) => `${key}=${typeof value === "string" && !/[\s"=]/.test(value) ? value : JSON.stringify(value)}`);
      return destination.write(`${time} ${level} ${module}${String(record.msg ?? "")}${fields.length ? ` ${fields.join(" ")}` : ""}\n`);
    },
  };
}
