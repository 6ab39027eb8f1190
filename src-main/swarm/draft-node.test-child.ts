// A draft node in its own process for draft.int.test.ts, so a test can SIGKILL it mid-answer.
// Prints one JSON line {peerId, address} and serves until killed.
import { generateKeyPair } from "@libp2p/crypto/keys";
import { createSilentLogger } from "../common/index.js";
import { loadSpeculativeModel } from "../engine/index.js";
import { createSwarmNode, registerDraftHandler } from "./index.js";

const modelPath = process.argv[2];
if (!modelPath) throw new Error("usage: draft-node.test-child.ts <model.gguf>");
const logger = createSilentLogger();
const model = await loadSpeculativeModel(modelPath, { threads: 1, gpu: false });
const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false });
await node.start();
await registerDraftHandler(node.libp2p, { resolveDraftModel: (sha) => (sha === model.info.sha256 ? model : undefined), logger });
console.log(JSON.stringify({ peerId: node.peerId, address: node.libp2p.getMultiaddrs()[0]!.toString() }));
setInterval(() => undefined, 60_000);
