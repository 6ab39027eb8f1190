// A dishonest `inferswarm node`, for the trust tests and bench/trust: the same CLI, with every served model
// wrapped by a cheat chosen through the environment (never reachable from the product's own command line).
//   INFERSWARM_CHEAT=random|impostor|truncate|replay  INFERSWARM_CLAIM_SHA256=<hash the impostor claims>
// Started by spawnNodeProcess(args, {entry: "cheating-node"}).
import { createCheatingModel, CHEAT_KINDS, type CheatKind } from "../node/index.js";
import { runCli } from "./index.js";

const cheat = process.env.INFERSWARM_CHEAT as CheatKind | undefined;
if (!cheat || !CHEAT_KINDS.includes(cheat)) throw new Error(`INFERSWARM_CHEAT must be one of ${CHEAT_KINDS.join(", ")}`);
const claimSha256 = process.env.INFERSWARM_CLAIM_SHA256 || undefined;
await runCli(process.argv, { startNodeDeps: { serveModelAs: (model) => createCheatingModel(model, cheat, { claimSha256 }) } });
