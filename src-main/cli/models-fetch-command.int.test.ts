import { generateKeyPair } from "@libp2p/crypto/keys";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { createModelCatalog, createModelStore, ensureSyntheticModel, type HeldModel } from "../models/index.js";
import { startNodeModels, type NodeModels } from "../node/index.js";
import { createSwarmNode, type SwarmNode } from "../swarm/index.js";
import { runModelsFetch } from "./models-fetch-command.js";

const logger = createSilentLogger();

describe("inferswarm models fetch", () => {
  let seeder: SwarmNode;
  let models: NodeModels;
  let held: HeldModel;
  let modelPath: string;
  const dirs: string[] = [];
  const temp = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "models-fetch-"));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    modelPath = (await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32" })).path;
    seeder = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false });
    await seeder.start();
    const store = createModelStore({ dir: await temp() });
    held = await store.addFiles([modelPath], { pieceSize: 64 * 1024 });
    models = await startNodeModels({ libp2p: seeder.libp2p, store, logger });
  });
  afterAll(async () => {
    await models.stop();
    await seeder.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("fetches by root through a bootstrap peer, with progress on stderr and the path on stdout", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const dataDir = await temp();
    const result = await runModelsFetch({
      model: held.manifest.root,
      dataDir,
      bootstrap: [seeder.multiaddrs()[0]!],
      listen: ["/ip4/127.0.0.1/tcp/0"],
      io: { stdout: (text) => out.push(text), stderr: (text) => err.push(text) },
      interactive: true,
    });
    expect(out.join("")).toBe(`${result.paths[0]}\n`);
    expect(result.paths[0]!.startsWith(path.join(dataDir, "models"))).toBe(true);
    expect(await readFile(result.paths[0]!)).toEqual(await readFile(modelPath));
    const text = err.join("");
    expect(text).toContain(`model ${held.manifest.root.slice(0, 12)}`);
    expect(text).toMatch(/\[#+\] 100\.0%/);
  });

  it("finds the root by a catalog name, and says clearly when a name is unknown", async () => {
    const dataDir = await temp();
    await createModelCatalog({ file: path.join(dataDir, "models", "catalog.json") }).put({ name: "tiny-f32", quantization: "F32", size: held.manifest.parts[0]!.size, root: held.manifest.root });
    const quiet = { stdout: () => undefined, stderr: () => undefined };
    const result = await runModelsFetch({ model: "tiny-f32", dataDir, bootstrap: [seeder.multiaddrs()[0]!], listen: ["/ip4/127.0.0.1/tcp/0"], io: quiet, interactive: false });
    expect(result.manifest.root).toBe(held.manifest.root);
    await expect(runModelsFetch({ model: "no-such-model", dataDir, io: quiet })).rejects.toMatchObject({ code: "MODELS_FETCH_UNKNOWN_MODEL" });
  });
});
