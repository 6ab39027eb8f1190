import { spawn } from "node:child_process";
import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { createInterface } from "node:readline";
import { privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryHash } from "./ledger-entries.js";
import { LedgerError } from "./ledger-errors.js";
import { attestation, countersigned, makeIdentity, tempDir, type Identity } from "./ledger.test-support.js";
import { openLedger } from "./ledger.js";
import { openDatabase } from "./sqlite.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dir = tempDir("inferswarm-ledger-int-");
let requester: Identity;
let worker: Identity;
let validator: Identity;
/** A closed ledger of 12 entries (see beforeAll), copied and edited by each tamper test. */
let pristine: string;
let pristineHead: { seq: number; hash: string };

beforeAll(async () => {
  [requester, worker, validator] = await Promise.all([makeIdentity(), makeIdentity(), makeIdentity()]);
  pristine = dir.file("pristine.sqlite");
  const ledger = await openLedger({ path: pristine, peerId: worker.peerId, headFile: `${pristine}.head` });
  // seq 2..9: receipts; 10: attestation, 11: its state move; 12: an owner's state change.
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) ids.push((await ledger.recordEarned(await countersigned(requester, worker))).receiptId);
  await ledger.recordAttestation(await attestation(validator, ids[0]!, "pass"));
  ledger.setEarningState(ids[1]!, "forfeited", "quorum: failed");
  pristineHead = ledger.head();
  expect(pristineHead.seq).toBe(12);
  ledger.close();
});

afterAll(() => dir.cleanup());

/** A copy of the pristine ledger (and its head file when asked), edited through a raw connection. */
function tamperedCopy(name: string, edit: (raw: DatabaseSync) => void, options: { headFile?: boolean } = {}): { file: string; headFile?: string } {
  const file = dir.file(`${name}.sqlite`);
  copyFileSync(pristine, file);
  if (options.headFile) copyFileSync(`${pristine}.head`, `${file}.head`);
  const raw = openDatabase(file);
  try {
    edit(raw);
  } finally {
    raw.close();
  }
  return { file, ...(options.headFile && { headFile: `${file}.head` }) };
}

async function openError(copy: { file: string; headFile?: string }): Promise<LedgerError> {
  const error = await openLedger({ path: copy.file, peerId: worker.peerId, ...(copy.headFile && { headFile: copy.headFile }) }).then(
    (ledger) => {
      ledger.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LedgerError);
  return error as LedgerError;
}

const DROP_GUARDS = "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete; DROP TRIGGER entries_append_at_head;";

describe("a tampered ledger file", () => {
  it("opens when untouched, with its head file", async () => {
    const ledger = await openLedger({ path: pristine, peerId: worker.peerId, headFile: `${pristine}.head` });
    try {
      expect(ledger.head()).toEqual(pristineHead);
    } finally {
      ledger.close();
    }
  });

  it("is refused when a body was changed, naming that entry", async () => {
    const copy = tamperedCopy("body", (raw) => raw.exec(`${DROP_GUARDS} UPDATE entries SET body = replace(body, '"outputTokens":100', '"outputTokens":900') WHERE seq = 5`));
    expect(await openError(copy)).toMatchObject({ code: "LEDGER_TAMPERED", seq: 5 });
  });

  it("is refused when an entry's time was changed", async () => {
    const copy = tamperedCopy("time", (raw) => raw.exec(`${DROP_GUARDS} UPDATE entries SET at = at - 86400000 WHERE seq = 7`));
    expect(await openError(copy)).toMatchObject({ code: "LEDGER_TAMPERED", seq: 7 });
  });

  it("is refused when a row was deleted after dropping the trigger", async () => {
    const copy = tamperedCopy("deleted", (raw) => raw.exec(`${DROP_GUARDS} DELETE FROM entries WHERE seq = 6`));
    const error = await openError(copy);
    expect(error).toMatchObject({ code: "LEDGER_TAMPERED", seq: 6 });
    expect(error.message).toContain("entry 6 is missing");
  });

  it("is refused when two rows were swapped", async () => {
    const copy = tamperedCopy("swapped", (raw) =>
      raw.exec(`${DROP_GUARDS}
        CREATE TEMP TABLE keep AS SELECT * FROM entries WHERE seq IN (3, 4);
        UPDATE entries SET at = (SELECT at FROM keep WHERE seq = 4), body = (SELECT body FROM keep WHERE seq = 4), hash = (SELECT hash FROM keep WHERE seq = 4), prev_hash = (SELECT prev_hash FROM keep WHERE seq = 4) WHERE seq = 3;
        UPDATE entries SET at = (SELECT at FROM keep WHERE seq = 3), body = (SELECT body FROM keep WHERE seq = 3), hash = (SELECT hash FROM keep WHERE seq = 3), prev_hash = (SELECT prev_hash FROM keep WHERE seq = 3) WHERE seq = 4;`),
    );
    expect(await openError(copy)).toMatchObject({ code: "LEDGER_TAMPERED", seq: 3 });
  });

  it("is refused when a receipt was changed and the chain re-hashed: its signatures no longer match", async () => {
    const copy = tamperedCopy("rehashed-receipt", (raw) => {
      raw.exec(DROP_GUARDS);
      rehashFrom(raw, 4, (body) => body.replace(/"pricePer1kTokensMicro":2000000/, '"pricePer1kTokensMicro":9000000').replace(/"amountMicro":200000/, '"amountMicro":900000'));
    });
    const error = await openError(copy);
    expect(error).toMatchObject({ code: "LEDGER_TAMPERED", seq: 4 });
    expect(error.message).toContain("LEDGER_RECEIPT_FORGED");
  });

  it("is refused by its head file when an unsigned state change was rewritten and the chain re-hashed", async () => {
    const edit = (raw: DatabaseSync) => {
      raw.exec(DROP_GUARDS);
      rehashFrom(raw, 12, (body) => body.replace('"state":"forfeited"', '"state":"payable"'));
    };
    // Without an anchor the rewritten chain is self-consistent: the owner can always rewrite their own file.
    const unanchored = tamperedCopy("rehashed-state", edit);
    const ledger = await openLedger({ path: unanchored.file, peerId: worker.peerId });
    ledger.close();
    const anchored = tamperedCopy("rehashed-state", edit, { headFile: true });
    expect(await openError(anchored)).toMatchObject({ code: "LEDGER_TAMPERED", seq: 12 });
  });

  it("is refused by its head file when the newest entries were cut off", async () => {
    const copy = tamperedCopy("cut", (raw) => raw.exec(`${DROP_GUARDS} DELETE FROM entries WHERE seq >= 11`), { headFile: true });
    const error = await openError(copy);
    expect(error).toMatchObject({ code: "LEDGER_TAMPERED", seq: 11 });
    expect(error.message).toContain("cut off");
  });

  it("is refused when the file is not a ledger", async () => {
    const file = dir.file("garbage.sqlite");
    writeFileSync(file, "this is not a database, just text that is long enough to be a header".repeat(20));
    expect(await openError({ file })).toMatchObject({ code: "LEDGER_OPEN_FAILED" });
  });
});

/** Rewrites entry `seq`'s body and recomputes its hash and every later one, as a careful forger would. */
function rehashFrom(raw: DatabaseSync, seq: number, change: (body: string) => string): void {
  const rows = raw.prepare("SELECT seq, at, kind, body FROM entries WHERE seq >= ? ORDER BY seq").all(seq);
  const update = raw.prepare("UPDATE entries SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?");
  let prev = String(raw.prepare("SELECT hash FROM entries WHERE seq = ?").get(seq - 1)!.hash);
  for (const row of rows) {
    const body = Number(row.seq) === seq ? change(String(row.body)) : String(row.body);
    if (Number(row.seq) === seq && body === row.body) throw new Error("the edit changed nothing");
    const hash = entryHash(prev, Number(row.seq), Number(row.at), String(row.kind), body);
    update.run(body, prev, hash, Number(row.seq));
    prev = hash;
  }
}

describe("a writer killed with SIGKILL", () => {
  interface Round {
    receipts: string[];
    attested: string[];
  }

  /** Starts the writer child, kills it after `killAfter` committed receipts (or at the bound), returns what it printed. */
  function runAndKill(file: string, runId: string, killAfter: number): Promise<Round> {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "ledger-writer.test-child.ts"), file, Buffer.from(privateKeyToProtobuf(worker.key)).toString("base64"), runId], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const round: Round = { receipts: [], attested: [] };
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      const bound = setTimeout(() => child.kill("SIGKILL"), 90_000);
      createInterface({ input: child.stdout }).on("line", (line) => {
        if (line.startsWith("R ")) round.receipts.push(line.slice(2));
        if (line.startsWith("A ")) round.attested.push(line.slice(2));
        if (round.receipts.length >= killAfter) child.kill("SIGKILL");
      });
      // "close", not "exit": every line the child wrote before it died has been read by then.
      child.on("close", (code, signal) => {
        clearTimeout(bound);
        if (signal !== "SIGKILL") reject(new Error(`the writer exited by itself (${code}); stderr: ${stderr.slice(-2000)}`));
        else resolve(round);
      });
    });
  }

  it("loses no committed receipt and leaves a chain that verifies, round after round", async () => {
    const file = dir.file("killed.sqlite");
    const printed: Round = { receipts: [], attested: [] };
    const kills = [37, 61, 23];
    for (const [round, killAfter] of kills.entries()) {
      const seen = await runAndKill(file, String(round), killAfter);
      expect(seen.receipts.length).toBeGreaterThanOrEqual(killAfter);
      printed.receipts.push(...seen.receipts);
      printed.attested.push(...seen.attested);

      const started = performance.now();
      const ledger = await openLedger({ path: file, peerId: worker.peerId, headFile: `${file}.head` });
      const openMs = performance.now() - started;
      try {
        const report = await ledger.verify();
        for (const id of printed.receipts) expect(ledger.has(id), id).toBe(true);
        for (const id of printed.attested) expect(ledger.getReceipt(id)?.record).toMatchObject({ verdict: "pass", state: "payable" });
        // Anything beyond what was printed committed in the instant before the kill: at most one receipt.
        expect(report.receipts - printed.receipts.length).toBeLessThanOrEqual(1);
        console.log(`round ${round}: killed after ${seen.receipts.length} printed receipts; reopened ${report.entries} entries (${report.receipts} receipts) in ${openMs.toFixed(0)} ms`);
      } finally {
        ledger.close();
      }
    }
    expect(existsSync(`${file}.head`)).toBe(true);
  });
});

describe("measured", () => {
  it("append and open rates", async () => {
    const file = dir.file("measured.sqlite");
    const ledger = await openLedger({ path: file, peerId: worker.peerId });
    const receipts = [];
    for (let i = 0; i < 300; i++) receipts.push(await countersigned(requester, worker));
    const started = performance.now();
    for (const receipt of receipts) await ledger.recordEarned(receipt);
    const appendMs = performance.now() - started;
    ledger.close();
    const opening = performance.now();
    const again = await openLedger({ path: file, peerId: worker.peerId });
    const openMs = performance.now() - opening;
    const head = again.head();
    again.close();
    console.log(`append: ${(receipts.length / (appendMs / 1000)).toFixed(0)} receipts/s (verify + fsync'd commit each); open: ${openMs.toFixed(0)} ms for ${receipts.length} receipts (${(receipts.length / (openMs / 1000)).toFixed(0)} receipts/s)`);
    expect(head.seq).toBe(receipts.length + 1);
  });
});
