import { generateKeyPair } from "@libp2p/crypto/keys";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { createModelStore, ensureSyntheticModel, pieceSpans, type HeldModel, type PieceReader } from "../models/index.js";
import { createPiecesFrames } from "./pieces-frames.js";
import { PIECES_PROTOCOL_ID, piecesAnswerSchema, piecesRequestSchema } from "./pieces-protocol.js";
import { registerPiecesHandler, type PiecesServer } from "./pieces-server.js";
import { openPeerPieceSource } from "./pieces-sources.js";
import { createSwarmNode, type SwarmNode } from "./swarm-node.js";

const logger = createSilentLogger();
const LIAR_ROOT = "a".repeat(64);

describe("the pieces protocol", () => {
  let seeder: SwarmNode;
  let fetcher: SwarmNode;
  let server: PiecesServer;
  let held: HeldModel;
  let other: HeldModel;
  let reader: PieceReader;
  let dir: string;
  const misbehaved: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "pieces-"));
    const store = createModelStore({ dir });
    held = await store.addFiles([(await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32" })).path], { pieceSize: 64 * 1024 });
    other = await store.addFiles([(await ensureSyntheticModel({ preset: "tiny", seed: 2, quantization: "F32" })).path], { pieceSize: 64 * 1024 });
    reader = await store.openPieceReader(held);
    const start = async () => {
      const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false });
      await node.start();
      return node;
    };
    seeder = await start();
    fetcher = await start();
    await fetcher.libp2p.dial(seeder.libp2p.getMultiaddrs()[0]!);
    server = await registerPiecesHandler(seeder.libp2p, {
      // Asked for LIAR_ROOT, the seeder answers with another model's manifest: a lie the fetcher must catch.
      resolve: (root) => (root === held.manifest.root ? { manifest: held.manifest, read: (index) => reader.read(index) } : root === LIAR_ROOT ? { manifest: other.manifest, read: (index) => reader.read(index) } : undefined),
      logger,
      onMisbehaviour: (peerId, reason) => misbehaved.push(`${peerId}:${reason}`),
    });
  });

  afterAll(async () => {
    await server.stop();
    await reader.close();
    await fetcher.stop();
    await seeder.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function rawSession() {
    const stream = await fetcher.libp2p.dialProtocol(seeder.libp2p.peerId, PIECES_PROTOCOL_ID);
    return createPiecesFrames(stream, { maxFrameBytes: 2 * 1024 * 1024 });
  }

  it("answers a manifest and pipelined pieces in order", async () => {
    const source = await openPeerPieceSource(fetcher.libp2p, seeder.peerId, { root: held.manifest.root });
    const manifest = await source.fetchManifest(AbortSignal.timeout(5_000));
    expect(manifest).toEqual(held.manifest);
    const pieces = await Promise.all([0, 1, 2, 3].map((index) => source.fetchPiece(index, AbortSignal.timeout(5_000))));
    for (const [index, bytes] of pieces.entries()) expect(Buffer.from(bytes)).toEqual(await reader.read(index));
    await source.close();
  });

  it("says which models it does not hold, and keeps the session", async () => {
    const source = await openPeerPieceSource(fetcher.libp2p, seeder.peerId, { root: "e".repeat(64) });
    await expect(source.fetchManifest(AbortSignal.timeout(5_000))).rejects.toMatchObject({ code: "PIECES_NOT_HELD", retryable: true });
  });

  it("refuses malformed, oversized and out-of-range requests and reports the peer", async () => {
    const before = misbehaved.length;
    const garbage = await rawSession();
    await garbage.writeBytes(new TextEncoder().encode("{not json"), { deadlineMs: 2_000 });
    expect(await garbage.readJson(piecesAnswerSchema, { deadlineMs: 5_000 })).toMatchObject({ type: "error", code: "PIECES_BAD_REQUEST" });

    const outOfRange = await rawSession();
    await outOfRange.writeJson({ type: "piece", root: held.manifest.root, index: 99_999 }, { deadlineMs: 2_000 });
    expect(await outOfRange.readJson(piecesAnswerSchema, { deadlineMs: 5_000 })).toMatchObject({ type: "error", code: "PIECES_BAD_REQUEST", retryable: false });

    const oversized = await rawSession();
    await oversized.writeJson({ type: "piece", root: held.manifest.root, index: 0, padding: "x".repeat(4096) }, { deadlineMs: 2_000 });
    // Refused before its body is parsed (the request frame limit is 1 KiB).
    expect(await oversized.readJson(piecesAnswerSchema, { deadlineMs: 5_000 })).toMatchObject({ type: "error", code: "PIECES_BAD_REQUEST" });
    expect(misbehaved.length - before).toBeGreaterThanOrEqual(3);
    expect(misbehaved.at(-1)).toContain(fetcher.peerId);
  });

  it("fails a truncated piece as a retryable source fault, and a longer one as a lie", async () => {
    const rogue = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false });
    await rogue.start();
    try {
      let mode: "truncate" | "overlong" = "truncate";
      await rogue.libp2p.handle(PIECES_PROTOCOL_ID, async (stream) => {
        const frames = createPiecesFrames(stream, { maxFrameBytes: 1024 });
        await frames.readJson(piecesRequestSchema, { deadlineMs: 5_000 });
        if (mode === "truncate") {
          await frames.writeJson({ type: "piece", index: 0, bytes: 65_536 }, { deadlineMs: 5_000 });
          await frames.writeBytes(new Uint8Array(1000), { deadlineMs: 5_000 });
          await frames.close();
        } else {
          await frames.writeJson({ type: "piece", index: 0, bytes: 65_537 }, { deadlineMs: 5_000 });
        }
      });
      await fetcher.libp2p.dial(rogue.libp2p.getMultiaddrs()[0]!);
      const spans = pieceSpans(held.manifest);
      const truncated = await openPeerPieceSource(fetcher.libp2p, rogue.peerId, { root: held.manifest.root, spans });
      await expect(truncated.fetchPiece(0, AbortSignal.timeout(10_000))).rejects.toMatchObject({ code: "PIECES_SOURCE_FAILED", retryable: true });
      mode = "overlong";
      const overlong = await openPeerPieceSource(fetcher.libp2p, rogue.peerId, { root: held.manifest.root, spans });
      await expect(overlong.fetchPiece(0, AbortSignal.timeout(10_000))).rejects.toMatchObject({ code: "PIECES_BAD_PIECE" });
    } finally {
      await rogue.stop();
    }
  });

  it("catches a seeder that answers with another model's manifest", async () => {
    const source = await openPeerPieceSource(fetcher.libp2p, seeder.peerId, { root: LIAR_ROOT });
    await expect(source.fetchManifest(AbortSignal.timeout(5_000))).rejects.toMatchObject({ code: "PIECES_BAD_PIECE" });
  });
});
