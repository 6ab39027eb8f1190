/**
 * Electron's contextBridge copies only an Error's message into the page (custom properties such as `code`
 * are dropped), so the preload puts the code in the message as `[CODE] message` and the renderer reads it
 * back with `decodeBridgeError`. zod-free and dependency-free: every process may load it.
 */
export function encodeBridgeError(code: string, message: string): string {
  return `[${code}] ${message}`;
}

const encoded = /^\[([A-Z0-9_]{1,64})\] ([\s\S]*)$/;

/** `{code, message}` from an error thrown by `window.inferswarm.*`; errors of other origins get code "INTERNAL". */
export function decodeBridgeError(error: unknown): { code: string; message: string } {
  const direct = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof direct === "string") return { code: direct, message };
  // Electron may prefix the copied message with "Error invoking remote method …: Error: ".
  const match = encoded.exec(message.replace(/^.*?Error: (?=\[)/s, ""));
  return match ? { code: match[1]!, message: match[2]! } : { code: "INTERNAL", message };
}
