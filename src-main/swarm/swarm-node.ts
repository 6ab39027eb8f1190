import { autoNAT } from "@libp2p/autonat";
import { bootstrap } from "@libp2p/bootstrap";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { dcutr } from "@libp2p/dcutr";
import { gossipsub, type GossipSub } from "@libp2p/gossipsub";
import { identify, type Identify } from "@libp2p/identify";
import type { Libp2p, PeerInfo, PrivateKey } from "@libp2p/interface";
import { kadDHT, type KadDHT } from "@libp2p/kad-dht";
import { mdns } from "@libp2p/mdns";
import { noise } from "@libp2p/noise";
import { ping, type Ping } from "@libp2p/ping";
import { preSharedKey } from "@libp2p/pnet";
import { tcp } from "@libp2p/tcp";
import { uPnPNAT } from "@libp2p/upnp-nat";
import { webSockets } from "@libp2p/websockets";
import { yamux } from "@libp2p/yamux";
import { createLibp2p, type Libp2pOptions } from "libp2p";
import type { Logger } from "../common/index.js";

/** Our DHT, separate from the public IPFS one (a different protocol id means no IPFS peer answers). */
export const SWARM_DHT_PROTOCOL = "/inferswarm/kad/1.0.0";

export interface SwarmServices {
  identify: Identify;
  ping: Ping;
  dht: KadDHT;
  pubsub: GossipSub;
  // NAT services (autonat, dcutr, upnp) run only with `nat: true` and are not used directly.
  [name: string]: unknown;
}

export type SwarmLibp2p = Libp2p<SwarmServices>;

export interface SwarmNodeOptions {
  /** The node's persistent identity (see `loadOrCreateIdentity`). */
  privateKey: PrivateKey;
  logger: Logger;
  /** Defaults to TCP and WebSockets on every interface, OS-chosen ports. */
  listen?: string[];
  /** Multiaddrs (with /p2p/ ids) dialled at start. */
  bootstrap?: string[];
  /** LAN discovery; the desktop default. Tests turn it off: it multicasts on the real network. */
  mdns?: boolean;
  /** Relays, AutoNAT, hole punching and UPnP: talks to routers and public peers, so off by default. */
  nat?: boolean;
  /** A private swarm: the bytes from `parseSwarmKey`. Peers without the same key never connect. */
  swarmKey?: Uint8Array;
  /** Connections above which the manager prunes (soft). */
  maxConnections?: number;
  dialTimeoutMs?: number;
}

export interface SwarmNode {
  readonly libp2p: SwarmLibp2p;
  readonly peerId: string;
  readonly privateKey: PrivateKey;
  /** Addresses others can dial, with the /p2p/ suffix. */
  multiaddrs(): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_LISTEN = ["/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/tcp/0/ws"];

/** Keeps every address: the default mapper drops loopback/LAN ones, which a LAN or test swarm needs. */
function keepAllAddresses(peer: PeerInfo): PeerInfo {
  return peer;
}

export async function createSwarmNode(options: SwarmNodeOptions): Promise<SwarmNode> {
  const logger = options.logger.child({ module: "swarm" });
  const nat = options.nat ?? false;
  const listen = [...(options.listen ?? DEFAULT_LISTEN)];
  if (nat) listen.push("/p2p-circuit");

  const services: Record<string, unknown> = {
    identify: identify(),
    // Back-to-back probes (the scheduler measures several workers) exceed the default 1 out / 2 in.
    ping: ping({ maxInboundStreams: 16, maxOutboundStreams: 16, timeout: 5_000 }),
    dht: kadDHT({
      protocol: SWARM_DHT_PROTOCOL,
      clientMode: false,
      peerInfoMapper: keepAllAddresses,
      initialQuerySelfInterval: 100,
    }),
    pubsub: gossipsub({
      // Adverts are published on a timer whether or not a mesh formed yet.
      allowPublishToZeroTopicPeers: true,
      ignoreDuplicatePublishError: true,
      maxInboundDataLength: 1024 * 1024,
    }),
  };
  if (nat) {
    services.autonat = autoNAT();
    services.dcutr = dcutr();
    services.upnp = uPnPNAT();
  }

  const peerDiscovery: NonNullable<Libp2pOptions["peerDiscovery"]> = [];
  if (options.bootstrap && options.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: options.bootstrap, timeout: 10 }));
  if (options.mdns ?? true) peerDiscovery.push(mdns());

  const transports: NonNullable<Libp2pOptions["transports"]> = [tcp(), webSockets()];
  if (nat) transports.push(circuitRelayTransport());

  const libp2p = await createLibp2p<SwarmServices>({
    start: false,
    privateKey: options.privateKey,
    addresses: { listen },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(options.swarmKey && { connectionProtector: preSharedKey({ psk: options.swarmKey }) }),
    peerDiscovery,
    connectionManager: {
      maxConnections: options.maxConnections ?? 300,
      // Every test peer shares 127.0.0.1, and a LAN party shares a few addresses: the default (5/s per
      // host) refuses most of them.
      inboundConnectionThreshold: 1_000,
      maxIncomingPendingConnections: 100,
      dialTimeout: options.dialTimeoutMs ?? 10_000,
    },
    // A busy connection (tokens streaming) can miss a ping deadline; aborting it killed live jobs.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    services: services as Libp2pOptions<SwarmServices>["services"],
  });

  return {
    libp2p,
    peerId: libp2p.peerId.toString(),
    privateKey: options.privateKey,
    multiaddrs: () => libp2p.getMultiaddrs().map((address) => address.toString()),
    async start() {
      await libp2p.start();
      logger.info({ peerId: libp2p.peerId.toString(), addresses: libp2p.getMultiaddrs().map(String), private: options.swarmKey !== undefined, nat }, "swarm node started");
    },
    async stop() {
      await libp2p.stop();
      logger.info("swarm node stopped");
    },
  };
}
