/**
 * The live-event connection as the page shows it. The preload's IPC is always "open"; the bridge's socket
 * goes connecting → open, and reconnecting after a drop, or "unauthorized" when the node refuses the token.
 */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "unauthorized";
export type ConnectionListener = (state: ConnectionState) => void;
