import { DashboardCallError } from "../../src-contract/index.js";

/** What a panel shows when a call fails: the node's code (for tests and support) and its sentence for the owner. */
export interface CallErrorView {
  code: string;
  message: string;
}

export function toCallError(error: unknown): CallErrorView {
  if (error instanceof DashboardCallError) return { code: error.code, message: error.message };
  return { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
}

/**
 * Field errors from a refused settings update. The contract's argument check and the node's policy check
 * both name each bad field inside parentheses: "… (policy.limits.maxTemperatureC: Too big: …; idleAfterSeconds: …)".
 * Keys are paths under `policy` (e.g. "limits.maxTemperatureC"), or a top-level field such as "startAtLogin".
 */
export function fieldErrorsFrom(error: CallErrorView): Record<string, string> {
  if (error.code !== "BAD_ARGUMENT" && error.code !== "BAD_SETTINGS") return {};
  const inner = /\(([\s\S]*)\)/.exec(error.message)?.[1];
  if (!inner) return {};
  const fields: Record<string, string> = {};
  for (const part of inner.split("; ")) {
    const match = /^([\w.]+): ([\s\S]+)$/.exec(part.trim());
    if (!match) continue;
    const path = match[1]!.replace(/^policy\./, "");
    fields[path] ??= match[2]!;
  }
  return fields;
}
