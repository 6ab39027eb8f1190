// Run by ledger.int.test.ts as `node --import tsx <this file> <ledger path> <worker key, base64 protobuf>`:
// appends countersigned receipts (every fifth with an attestation, two entries in one transaction) as fast
// as it can and prints each committed receipt id ("R <id>", "A <id>") until it is killed or reaches its bound.
import { privateKeyFromProtobuf } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { openLedger } from "./index.js";
import { attestation, countersigned, makeIdentity } from "./ledger.test-support.js";

const [ledgerPath, workerKeyBase64, runId] = process.argv.slice(2);
if (!ledgerPath || !workerKeyBase64 || !runId) throw new Error("usage: ledger-writer.test-child.ts <ledger path> <worker key> <run id>");
const key = privateKeyFromProtobuf(Buffer.from(workerKeyBase64, "base64"));
const worker = { key, peerId: peerIdFromPrivateKey(key).toString() };
const requester = await makeIdentity();
const validator = await makeIdentity();
const ledger = await openLedger({ path: ledgerPath, peerId: worker.peerId, headFile: `${ledgerPath}.head` });
console.log("READY");

const maxReceipts = 5_000;
const deadline = Date.now() + 60_000;
for (let i = 0; i < maxReceipts && Date.now() < deadline; i++) {
  const receipt = await countersigned(requester, worker, { jobId: `kill-${runId}-${String(i).padStart(6, "0")}` });
  await ledger.recordEarned(receipt);
  console.log(`R ${receipt.body.receiptId}`);
  if (i % 5 === 4) {
    await ledger.recordAttestation(await attestation(validator, receipt.body.receiptId, "pass"));
    console.log(`A ${receipt.body.receiptId}`);
  }
}
ledger.close();
console.log("DONE");
