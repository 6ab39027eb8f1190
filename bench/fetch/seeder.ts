/**
 * One seeding peer for bench/fetch, in its own process: holds the model from a prepared store (no
 * re-hashing), serves its pieces without caps, and prints `{"peerId","addresses"}` on stdout.
 * Stops on SIGTERM or when its parent's stdin closes.
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { parseArgs } from "node:util";
import { createSilentLogger } from "../../src-main/common/index.js";
import { createModelStore } from "../../src-main/models/index.js";
import { startNodeModels } from "../../src-main/node/index.js";
import { createSwarmNode } from "../../src-main/swarm/index.js";

const { values } = parseArgs({ options: { store: { type: "string" } } });
if (!values.store) throw new Error("--store is required");
const logger = createSilentLogger();
const swarm = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false });
await swarm.start();
const models = await startNodeModels({ libp2p: swarm.libp2p, store: createModelStore({ dir: values.store }), logger, caps: { maxConcurrentUploads: 16 }, provide: false });
if (models.held().length === 0) throw new Error(`the store ${values.store} holds no model`);
process.stdout.write(`${JSON.stringify({ peerId: swarm.peerId, addresses: swarm.multiaddrs() })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await models.stop();
  await swarm.stop();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.stdin.on("close", () => void stop());
process.stdin.resume();
