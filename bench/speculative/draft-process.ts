/**
 * The draft node of bench/speculative, in its own process: a libp2p node on 127.0.0.1 serving the draft
 * protocol with one model. Prints one JSON line {peerId, address, sha256} and runs until stdin closes.
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { parseArgs } from "node:util";
import { createLogger } from "../../src-main/common/index.js";
import { loadSpeculativeModel } from "../../src-main/engine/index.js";
import { createSwarmNode, registerDraftHandler } from "../../src-main/swarm/index.js";

const { values: args } = parseArgs({ options: { model: { type: "string" }, threads: { type: "string", default: "1" }, "run-ahead": { type: "string", default: "8" } } });
if (!args.model) throw new Error("--model <path> is required");
const logger = createLogger({ level: "warn" });
const model = await loadSpeculativeModel(args.model, { threads: Number(args.threads), gpu: false, sequences: 1, logger });
const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false });
await node.start();
const handler = await registerDraftHandler(node.libp2p, { resolveDraftModel: (sha) => (sha === model.info.sha256 ? model : undefined), logger, runAhead: Number(args["run-ahead"]) });
const address = node.libp2p.getMultiaddrs()[0]!;
console.log(JSON.stringify({ peerId: node.peerId, address: address.toString(), port: Number(/\/tcp\/(\d+)/.exec(address.toString())?.[1]), sha256: model.info.sha256 }));

process.stdin.resume();
process.stdin.on("end", () => {
  void (async () => {
    await handler.stop();
    await node.stop();
    await model.close();
    process.exit(0);
  })();
});
