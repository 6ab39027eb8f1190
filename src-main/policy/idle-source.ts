import type { Clock, Logger } from "../common/index.js";

export interface IdleReading {
  /** Seconds since the owner last used this machine. */
  idleSeconds: number;
  locked: boolean;
  /** The machine is going to sleep (or asleep). */
  suspended: boolean;
}

export type IdleListener = (reading: IdleReading) => void;

/** Where the owner's presence comes from: Electron's powerMonitor on a desktop, logind on a headless rig. */
export interface IdleSource {
  read(): Promise<IdleReading>;
  /** Pushes changes the source learns between reads (lock, sleep, the owner coming back); returns an unsubscribe. */
  onChange(listener: IdleListener): () => void;
  close(): void;
}

/** Runs a program without a shell. Rejects (e.g. ENOENT) when it cannot start; a non-zero exit resolves. */
export type CommandRunner = (
  file: string,
  args: readonly string[],
  options: { timeoutMs: number },
) => Promise<{ stdout: string; stderr: string; exitCode: number | null }>;

export interface HeadlessIdleSourceOptions {
  runCommand: CommandRunner;
  clock: Clock;
  logger: Logger;
  /** Defaults to `process.platform`; only Linux has logind. */
  platform?: NodeJS.Platform;
  commandTimeoutMs?: number;
}

interface LogindSession {
  id: string;
  type: string;
  remote: boolean;
  idleHint: boolean;
  /** Epoch ms when the idle hint last changed; null when logind does not know. */
  idleSinceMs: number | null;
  locked: boolean;
}

/** Sessions where someone sits at this machine: a local desktop or console, not SSH or a service manager. */
const INTERACTIVE_TYPES = new Set(["x11", "wayland", "mir", "tty"]);

/**
 * Presence for a machine without Electron. Decision: the machine counts as idle unless a local
 * interactive logind session (x11/wayland/mir/tty, not remote) is active. With such sessions, idle time is
 * logind's IdleHint/IdleSinceHint (set by the desktop after its own idle delay, so it undercounts) and
 * locked means every one of them is locked. With none, or without loginctl (not Linux, a container), the
 * machine is idle since this source started or since a session was last seen, whichever is later: a
 * logout is the owner's last action, and a daemon in when-idle mode waits idleAfterSeconds after it
 * starts, the same grace a desktop gets (a dedicated rig should use mode "always"). Sleep cannot be seen
 * without D-Bus, so `suspended` is always false here.
 */
export function createHeadlessIdleSource(options: HeadlessIdleSourceOptions): IdleSource {
  const { runCommand, clock } = options;
  const logger = options.logger.child({ component: "headless-idle-source" });
  const timeoutMs = options.commandTimeoutMs ?? 2000;
  const startedAt = clock.now();
  let lastSessionSeenAt = startedAt;
  let loginctlUsable = (options.platform ?? process.platform) === "linux";
  let warnedFailure = false;
  const listeners = new Set<IdleListener>();

  const idleSinceBaseline = (now: number): IdleReading => ({
    idleSeconds: Math.max(0, (now - lastSessionSeenAt) / 1000),
    locked: false,
    suspended: false,
  });

  async function readSessions(): Promise<LogindSession[] | null> {
    try {
      const list = await runCommand("loginctl", ["list-sessions", "--no-legend", "--no-pager"], { timeoutMs });
      if (list.exitCode === 127) throw Object.assign(new Error("loginctl: command not found"), { code: "ENOENT" });
      if (list.exitCode !== 0) {
        // Without systemd as init (containers, WSL1, some VMs) logind never appears: stop spawning
        // loginctl every poll, which costs the worker page-table copies and page faults each time.
        if (/not been booted with systemd|Failed to connect to bus/i.test(list.stderr)) {
          loginctlUsable = false;
          logger.info({ detail: list.stderr.trim() }, "logind is not running: the machine counts as idle since this node started");
          return null;
        }
        return failed(`exit code ${list.exitCode}: ${list.stderr.trim()}`);
      }
      const ids = parseSessionIds(list.stdout);
      if (ids.length === 0) return [];
      const show = await runCommand(
        "loginctl",
        ["show-session", ...ids, "-p", "Id", "-p", "Type", "-p", "Remote", "-p", "IdleHint", "-p", "IdleSinceHint", "-p", "LockedHint", "--no-pager"],
        { timeoutMs },
      );
      // A session that ended between the two calls makes show-session fail for it alone; keep the others.
      const sessions = parseShowSession(show.stdout);
      if (show.exitCode !== 0 && sessions.length === 0) return failed(`exit code ${show.exitCode}: ${show.stderr.trim()}`);
      return sessions;
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") {
        loginctlUsable = false;
        logger.info("loginctl is not installed: the machine counts as idle since this node started");
        return null;
      }
      return failed(error instanceof Error ? error.message : String(error));
    }
  }

  function failed(detail: string): null {
    if (!warnedFailure) logger.warn({ detail }, "loginctl failed; counting the machine as idle since a session was last seen");
    else logger.debug({ detail }, "loginctl failed");
    warnedFailure = true;
    return null;
  }

  return {
    async read() {
      if (!loginctlUsable) return idleSinceBaseline(clock.now());
      const sessions = await readSessions();
      const now = clock.now();
      if (sessions === null) return idleSinceBaseline(now);
      const interactive = sessions.filter((session) => INTERACTIVE_TYPES.has(session.type) && !session.remote);
      if (interactive.length === 0) return idleSinceBaseline(now);
      lastSessionSeenAt = now;
      const idleSeconds = Math.min(
        ...interactive.map((session) => {
          if (!session.idleHint) return 0;
          const since = session.idleSinceMs ?? startedAt;
          return Math.max(0, (now - since) / 1000);
        }),
      );
      return { idleSeconds, locked: interactive.every((session) => session.locked), suspended: false };
    },
    // logind's hints can only be polled without D-Bus, so this source has nothing to push.
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
    },
  };
}

/** `loginctl list-sessions --no-legend`: the session id is the first column, the uid the second (all versions). */
export function parseSessionIds(stdout: string): string[] {
  const ids: string[] = [];
  for (const line of stdout.split("\n")) {
    const match = /^\s*(\S+)\s+\d+\s/.exec(line);
    if (match?.[1]) ids.push(match[1]);
  }
  return ids;
}

/** `loginctl show-session a b -p …`: one `Key=value` block per session, separated by blank lines. */
export function parseShowSession(stdout: string): LogindSession[] {
  const sessions: LogindSession[] = [];
  for (const block of stdout.split(/\n\s*\n/)) {
    const properties = new Map<string, string>();
    for (const line of block.split("\n")) {
      const equals = line.indexOf("=");
      if (equals > 0) properties.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
    }
    const id = properties.get("Id");
    if (!id) continue;
    // IdleSinceHint is CLOCK_REALTIME in microseconds; 0 means logind never saw the hint change.
    const idleSinceMicros = Number(properties.get("IdleSinceHint") ?? "0");
    sessions.push({
      id,
      type: properties.get("Type") ?? "unspecified",
      remote: properties.get("Remote") === "yes",
      idleHint: properties.get("IdleHint") === "yes",
      idleSinceMs: Number.isFinite(idleSinceMicros) && idleSinceMicros > 0 ? idleSinceMicros / 1000 : null,
      locked: properties.get("LockedHint") === "yes",
    });
  }
  return sessions;
}
