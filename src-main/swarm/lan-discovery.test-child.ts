// Run by swarm-transports.int.test.ts inside a fresh network namespace that holds only a loopback with
// multicast on, so mDNS and the NAT services (UPnP's SSDP, AutoNAT) cannot reach any real network.
// Prints one JSON line with what it saw.
import { generateKeyPair } from "@libp2p/crypto/keys";
import { createSilentLogger } from "../common/index.js";
import { createSwarmNode } from "./index.js";

const logger = createSilentLogger();
const listen = ["/ip4/127.0.0.1/tcp/0"];
const natNode = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen, mdns: true, nat: true, dialTimeoutMs: 3_000 });
const lanNode = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen, mdns: true, dialTimeoutMs: 3_000 });
const started = performance.now();
const discovered = new Promise<number | null>((resolve) => {
  const timer = setTimeout(() => resolve(null), 15_000);
  natNode.libp2p.addEventListener("peer:discovery", (event) => {
    if (!event.detail.id.equals(lanNode.libp2p.peerId)) return;
    clearTimeout(timer);
    resolve(performance.now() - started);
  });
});
await natNode.start();
await lanNode.start();
const discoveredMs = await discovered;
let pingMs: number | null = null;
let error: string | null = null;
if (discoveredMs !== null) {
  try {
    // Dialled by peer id alone: the addresses come from the mDNS answer.
    pingMs = await natNode.libp2p.services.ping.ping(lanNode.libp2p.peerId, { signal: AbortSignal.timeout(5_000) });
  } catch (e) {
    error = (e as Error).message;
  }
}
const natServices = ["autonat", "dcutr", "upnp"].filter((name) => name in natNode.libp2p.services);
await natNode.stop();
await lanNode.stop();
console.log(JSON.stringify({ discoveredMs, pingMs, error, natServices }));
