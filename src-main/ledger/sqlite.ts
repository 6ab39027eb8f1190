import { createRequire } from "node:module";
import type * as NodeSqlite from "node:sqlite";
import type { DatabaseSync } from "node:sqlite";

type SqliteModule = typeof NodeSqlite;

let loaded: SqliteModule | undefined;

/**
 * node:sqlite, loaded without its one-time "SQLite is an experimental feature" ExperimentalWarning: the
 * warning says nothing an owner can act on, and would print on every start of the CLI. Only that one
 * warning is dropped, only during this synchronous require; every other warning passes through.
 * (A plain `import` cannot be wrapped this way: ES modules evaluate before the code around them.)
 */
export function loadSqlite(): SqliteModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const original = process.emitWarning;
  const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const message = typeof warning === "string" ? warning : warning.message;
    const type = typeof rest[0] === "string" ? rest[0] : ((rest[0] as { type?: string } | undefined)?.type ?? (warning instanceof Error ? warning.name : undefined));
    if (type === "ExperimentalWarning" && message.startsWith("SQLite is an experimental feature")) return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
  try {
    loaded = require("node:sqlite") as SqliteModule;
  } finally {
    process.emitWarning = original;
  }
  return loaded;
}

/**
 * WAL with synchronous=FULL: a commit returns only after its WAL frames are on disk, so a process killed
 * (even the machine losing power) after a commit keeps it, and one killed mid-transaction leaves no trace
 * of it. busy_timeout lets a reader in another process (the CLI) wait instead of failing.
 */
export function openDatabase(path: string, options: { readOnly?: boolean } = {}): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false, timeout: 5_000 });
  try {
    if (!options.readOnly) db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Runs `work` in one IMMEDIATE transaction (the write lock is taken up front): all of it commits or none. */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
