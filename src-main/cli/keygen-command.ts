import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { generateSwarmKey } from "../swarm/index.js";
import { CliError, EXIT, homeOption, nodePathsFor, type CliContext } from "./cli-context.js";

export interface KeygenCommandOptions {
  out?: string;
  home?: string;
  force?: boolean;
}

export function registerKeygenCommand(program: Command, context: CliContext): void {
  program
    .command("keygen")
    .summary("make a swarm key file for a private swarm")
    .description(
      "Make a swarm key: a pre-shared key that closes a swarm to everyone who does not hold it (a lab, a LAN party). " +
        "Writes it (mode 0600) to swarm.key in the config directory, or --out; never overwrites a key without --force.",
    )
    .option("-o, --out <file>", "where to write the key (default: <config dir>/swarm.key)")
    .addOption(homeOption())
    .option("--force", "replace an existing key file (every member then needs the new key)")
    .action(async (options: KeygenCommandOptions) => {
      context.exitCode = await runKeygen(options, context);
    });
}

export async function runKeygen(options: KeygenCommandOptions, context: CliContext): Promise<number> {
  const file = path.resolve(options.out ?? path.join(nodePathsFor(options.home).configDir, "swarm.key"));
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let handle;
  try {
    // "wx": creating and checking are one step, so a key appearing meanwhile is never clobbered.
    handle = await open(file, options.force ? "w" : "wx", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      throw new CliError("CLI_KEY_EXISTS", `${file} already exists; nodes that use it would be cut off by a new key. Pass --force to replace it, or --out <file> to write elsewhere.`);
    }
    throw new CliError("CLI_KEY_UNWRITABLE", `Cannot write ${file} (${code ?? (error as Error).message}); choose another place with --out.`, EXIT.usage, { cause: error });
  }
  try {
    await handle.chmod(0o600); // "w" on an existing file keeps its old mode
    await handle.writeFile(generateSwarmKey());
    await handle.sync();
  } finally {
    await handle.close();
  }
  context.out(`Swarm key written to ${file} (mode 0600).`);
  context.out("Share it only over a channel you trust (in person, an encrypted message): anyone holding it can join the swarm.");
  context.out(`Every member starts with it: inferswarm node --swarm-key ${file}`);
  context.out(`  or puts "swarmKeyFile": "${file}" in node.json. Nodes without the key cannot connect to those with it.`);
  return EXIT.ok;
}
