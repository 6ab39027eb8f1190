/**
 * The verifier node of bench/speculative, in its own process: the target model loaded twice over one
 * mmapped file, through the engine (plain decoding, the path a job takes today) and for speculation,
 * plus a libp2p node that reaches the draft through the delay relay. Reads JSON commands on stdin and
 * answers one JSON line per command on stdout.
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { peerIdFromString } from "@libp2p/peer-id";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createLogger } from "../../src-main/common/index.js";
import { createEngine, loadSpeculativeModel, type SpeculationStats } from "../../src-main/engine/index.js";
import { createDraftClient, createSwarmNode, type DraftClient } from "../../src-main/swarm/index.js";
import { median } from "../lib/stats.js";

const { values: args } = parseArgs({ options: { model: { type: "string" }, threads: { type: "string", default: "1" } } });
if (!args.model) throw new Error("--model <path> is required");
const logger = createLogger({ level: "warn" });
const threads = Number(args.threads);
const engine = await createEngine({ gpu: false, logger });
const plain = await engine.loadModel(args.model, { threads });
const verifier = await loadSpeculativeModel(args.model, { threads, gpu: false, logger });
const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false });
await node.start();
let client: DraftClient | undefined;

interface MeasureCommand {
  cmd: "measure";
  draft: { peerId: string; address: string; sha256: string };
  prompts: string[];
  maxTokens: number;
  rounds: number;
  fixedDraftTokens?: number;
  diagnose?: boolean;
}

interface Sample {
  plainTokS: number;
  specTokS: number;
  /** The speculative loop with no draft (k = 0 throughout): its own cost against the engine's decode. */
  loopTokS: number | undefined;
  same: boolean;
  stats: SpeculationStats;
}

async function timePlain(prompt: string, maxTokens: number) {
  const startedAt = performance.now();
  const result = await plain.generateText({ prompt, maxTokens });
  return { tokens: result.tokens, tokS: (result.tokens.length / (performance.now() - startedAt)) * 1000 };
}

async function timeSpeculative(command: MeasureCommand, prompt: string, withDraft = true) {
  const startedAt = performance.now();
  const lease = withDraft ? await client!.lease({ peerId: command.draft.peerId, draftModelSha256: command.draft.sha256 }, { vocabularySize: verifier.info.vocabularySize }).catch(() => undefined) : undefined;
  const stream = verifier.generate({ prompt, maxTokens: command.maxTokens }, { draft: lease, draftLength: { fixedDraftTokens: command.fixedDraftTokens } });
  const tokens: number[] = [];
  try {
    for await (const token of stream) tokens.push(token.tokenId);
  } finally {
    lease?.release();
  }
  return { tokens, tokS: (tokens.length / (performance.now() - startedAt)) * 1000, stats: stream.stats(), leased: lease !== undefined };
}

async function measure(command: MeasureCommand) {
  await client?.close();
  const draftPeer = peerIdFromString(command.draft.peerId);
  // A new relay (another delay) means a new connection: the old one still runs through the old relay.
  await node.libp2p.hangUp(draftPeer).catch(() => undefined);
  // Identify taught the peer store the draft's direct address; a dial would race it against the relay's.
  const relayAddress = multiaddr(command.draft.address);
  await node.libp2p.peerStore.patch(draftPeer, { multiaddrs: [relayAddress.decapsulateCode(421)] });
  const viaRelay = await node.libp2p.dial(relayAddress);
  // A direct connection left over (or raced by the dialer) would bypass the delay.
  for (const connection of node.libp2p.getConnections(draftPeer)) if (connection !== viaRelay) await connection.close().catch(() => undefined);
  client = createDraftClient(node.libp2p, { logger });
  const pings: number[] = [];
  for (let i = 0; i < 7; i++) pings.push(await node.libp2p.services.ping.ping(draftPeer));
  // Warm-up: opens the draft stream, touches every page of both models.
  await timePlain(command.prompts[0]!, 16);
  await timeSpeculative({ ...command, maxTokens: 16 }, command.prompts[0]!);
  const samples: Sample[] = [];
  for (let round = 0; round < command.rounds; round++) {
    const prompt = command.prompts[round % command.prompts.length]!;
    // Alternate which goes first: speed drifts on a shared machine.
    let p;
    let s;
    if (round % 2 === 0) {
      p = await timePlain(prompt, command.maxTokens);
      s = await timeSpeculative(command, prompt);
    } else {
      s = await timeSpeculative(command, prompt);
      p = await timePlain(prompt, command.maxTokens);
    }
    const loop = command.diagnose ? await timeSpeculative(command, prompt, false) : undefined;
    samples.push({ plainTokS: p.tokS, specTokS: s.tokS, loopTokS: loop?.tokS, same: JSON.stringify(p.tokens) === JSON.stringify(s.tokens), stats: s.stats });
  }
  const drafted = samples.reduce((sum, s) => sum + s.stats.draftedTokens, 0);
  const accepted = samples.reduce((sum, s) => sum + s.stats.acceptedTokens, 0);
  const rounds = samples.reduce((sum, s) => sum + s.stats.rounds, 0);
  return {
    type: "result",
    pingMs: median(pings),
    connections: node.libp2p.getConnections(draftPeer).map((c) => `${c.remoteAddr.toString()} ${c.direction}`),
    plainTokS: median(samples.map((s) => s.plainTokS)),
    specTokS: median(samples.map((s) => s.specTokS)),
    speedup: median(samples.map((s) => s.specTokS / s.plainTokS)),
    loopWithoutDraftRatio: command.diagnose ? median(samples.map((s) => s.loopTokS! / s.plainTokS)) : undefined,
    acceptance: drafted === 0 ? 0 : accepted / drafted,
    meanK: rounds === 0 ? 0 : drafted / rounds,
    plainSteps: samples.reduce((sum, s) => sum + s.stats.plainSteps, 0),
    speculativeRounds: rounds,
    lastK: samples.at(-1)?.stats.draftLength.lastChosen ?? 0,
    draftFailures: samples.reduce((sum, s) => sum + s.stats.draftFailures, 0),
    draftWaitMsPerRound: rounds === 0 ? 0 : samples.reduce((sum, s) => sum + s.stats.draftWaitMs, 0) / rounds,
    draftComputeMsPerRound: rounds === 0 ? 0 : samples.reduce((sum, s) => sum + s.stats.draftComputeMs, 0) / rounds,
    verifyMsPerRound: rounds === 0 ? 0 : samples.reduce((sum, s) => sum + s.stats.verifyMs, 0) / rounds,
    sameOutput: samples.filter((s) => s.same).length / samples.length,
    controller: samples.at(-1)?.stats.draftLength,
  };
}

const lines = createInterface({ input: process.stdin });
console.log(JSON.stringify({ type: "ready", peerId: node.peerId, quantization: verifier.info.quantization }));
for await (const line of lines) {
  const command = JSON.parse(line) as MeasureCommand | { cmd: "exit" };
  if (command.cmd === "exit") break;
  try {
    console.log(JSON.stringify(await measure(command)));
  } catch (error) {
    console.log(JSON.stringify({ type: "error", message: error instanceof Error ? error.stack : String(error) }));
  }
}
await client?.close();
await node.stop();
await verifier.close();
await engine.close();
process.exit(0);
