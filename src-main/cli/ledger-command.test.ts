import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peerIdOfKey } from "../common/index.js";
import { countersignReceipt, createReceipt, openLedger, signReceipt } from "../ledger/index.js";
import { loadOrCreateIdentity } from "../swarm/index.js";
import { runCapturing, tempHome } from "./cli.test-support.js";

const MODEL_A = "a".repeat(64);
const MODEL_B = "b".repeat(64);
const day = (d: number) => new Date(2026, 10, d, 12).getTime();

async function receipt(requester: PrivateKey, worker: PrivateKey, jobId: string, modelSha256: string) {
  const body = createReceipt({
    jobId,
    requesterPeerId: peerIdOfKey(requester),
    workerPeerId: peerIdOfKey(worker),
    modelSha256,
    promptTokenIds: [1, 2, 3],
    outputTokenIds: Array.from({ length: 100 }, (_, i) => 10 + i),
    pricePer1kTokensMicro: 2_000_000,
    startedAt: day(1),
    finishedAt: day(1) + 1000,
  });
  return countersignReceipt(await signReceipt(body, requester), worker);
}

describe("inferswarm ledger", () => {
  const home = tempHome();
  const dataDir = path.join(home.dir, "data");
  const ledgerFile = path.join(dataDir, "ledger.sqlite");

  beforeAll(async () => {
    // A node's data folder as `inferswarm node` leaves it: its identity, and a ledger with its head file.
    const self = await loadOrCreateIdentity(path.join(dataDir, "identity.key"));
    const other = await generateKeyPair("Ed25519");
    let now = day(10);
    const ledger = await openLedger({ path: ledgerFile, headFile: path.join(dataDir, "ledger.head"), peerId: peerIdOfKey(self), clock: { now: () => now } });
    const first = await ledger.recordEarned(await receipt(other, self, "job-00000001", MODEL_A));
    await ledger.recordEarned(await receipt(other, self, "job-00000002", MODEL_A));
    ledger.setEarningState(first.receiptId, "payable", "verified");
    now = day(20);
    await ledger.recordEarned(await receipt(other, self, "job-00000003", MODEL_B));
    await ledger.recordSpent(await receipt(self, other, "job-00000004", MODEL_A));
    ledger.close();
  });
  afterAll(() => home.cleanup());

  it("earnings: totals per state, per model and spent, in a date range", async () => {
    const all = await runCapturing(["ledger", "earnings", "--home", home.dir, "--json"]);
    expect(all.code).toBe(0);
    const report = JSON.parse(all.stdout);
    expect(report.earned).toMatchObject({ payable: "0.200000", pending: "0.400000", held: "0.000000", forfeited: "0.000000", jobs: 3, tokens: 300 });
    expect(report.perModel.map((m: { model: string; jobs: number }) => [m.model, m.jobs])).toEqual([
      [MODEL_A, 2],
      [MODEL_B, 1],
    ]);
    expect(report.spent).toEqual({ amount: "0.200000", jobs: 1, tokens: 100 });

    const late = await runCapturing(["ledger", "earnings", "--home", home.dir, "--since", "2026-11-15", "--json"]);
    expect(JSON.parse(late.stdout).earned).toMatchObject({ jobs: 1, pending: "0.200000", payable: "0.000000" });

    const human = await runCapturing(["ledger", "earnings", "--home", home.dir, "--until", "2026-11-15"]);
    expect(human.stdout).toMatch(/payable\s+0\.200000 credits/);
    expect(human.stdout).toContain("earned on 2 jobs, 200 tokens");
  });

  it("earnings: refuses a range that ends before it starts (exit 2)", async () => {
    const run = await runCapturing(["ledger", "earnings", "--home", home.dir, "--since", "2026-11-20", "--until", "2026-11-10"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--since");
    expect(run.stderr).toContain("CLI_BAD_RANGE");
  });

  it("export: CSV to a file (or stdout), never over an existing file without --force", async () => {
    const file = path.join(home.dir, "earnings.csv");
    const run = await runCapturing(["ledger", "export", "--home", home.dir, "--csv", file, "--role", "earned"]);
    expect(run.code).toBe(0);
    const lines = readFileSync(file, "utf8").trim().split("\r\n");
    expect(lines[0]).toMatch(/^receipt_id,role,state,/);
    expect(lines).toHaveLength(4);
    expect(run.stderr).toContain("Wrote 3 receipts");

    const again = await runCapturing(["ledger", "export", "--home", home.dir, "--csv", file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");

    const stdout = await runCapturing(["ledger", "export", "--home", home.dir, "--since", "2026-11-15"]);
    expect(stdout.stdout.trim().split("\r\n")).toHaveLength(3);
  });

  it("verify: exits 0 on a sound chain, 1 naming the first bad entry after tampering", async () => {
    const ok = await runCapturing(["ledger", "verify", "--home", home.dir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/verifies: 6 entries, 4 receipts, 0 attestations/);

    const raw = new DatabaseSync(ledgerFile);
    raw.exec("DROP TRIGGER entries_no_update; UPDATE entries SET body = replace(body, '\"outputTokens\":100', '\"outputTokens\":900') WHERE seq = 3");
    raw.close();
    const broken = await runCapturing(["ledger", "verify", "--home", home.dir]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("does not verify at entry 3");
    expect(broken.stderr).toContain("[LEDGER_TAMPERED]");
    const json = await runCapturing(["ledger", "verify", "--home", home.dir, "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, code: "LEDGER_TAMPERED", seq: 3 });
  });

  it("exits 1 when there is no ledger under --home", async () => {
    const empty = tempHome();
    try {
      const run = await runCapturing(["ledger", "verify", "--home", empty.dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("There is no ledger under");
      expect(existsSync(path.join(empty.dir, "data", "ledger.sqlite"))).toBe(false);
    } finally {
      empty.cleanup();
    }
  });
});
