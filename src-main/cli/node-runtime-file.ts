import { open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/**
 * What a running `inferswarm node` / `gateway` tells other commands on the same machine (`status`): its
 * pid and where its local servers listen. The dashboard token stays in its own file (`dashboard.token`),
 * so this one holds nothing secret; it is still 0600 like everything in the data folder.
 */
export const nodeRuntimeSchema = z
  .object({
    version: z.literal(1),
    role: z.enum(["node", "gateway"]),
    pid: z.number().int().positive(),
    peerId: z.string().max(128),
    startedAt: z.number(),
    /** The dashboard's origin (http://127.0.0.1:port), without the token; null when it is off. */
    dashboardOrigin: z.string().max(256).nullable(),
    apiUrl: z.string().max(256).nullable(),
  })
  .strict();
export type NodeRuntime = z.infer<typeof nodeRuntimeSchema>;

export const NODE_RUNTIME_FILE = "node-runtime.json";
const MAX_BYTES = 4096;

export const runtimeFileOf = (dataDir: string) => path.join(dataDir, NODE_RUNTIME_FILE);

export async function writeNodeRuntime(dataDir: string, runtime: NodeRuntime): Promise<void> {
  const file = runtimeFileOf(dataDir);
  const temporary = `${file}.tmp-${process.pid}`;
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(nodeRuntimeSchema.parse(runtime))}\n`);
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/** The runtime file, or undefined when there is none or it is unreadable (a stale or foreign file is not worth an error). */
export async function readNodeRuntime(dataDir: string): Promise<NodeRuntime | undefined> {
  let text: string;
  try {
    text = await readFile(runtimeFileOf(dataDir), "utf8");
  } catch {
    return undefined;
  }
  if (text.length > MAX_BYTES) return undefined;
  try {
    const parsed = nodeRuntimeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file if it is still ours (a node started later in the same home may have replaced it). */
export async function removeNodeRuntime(dataDir: string, pid: number): Promise<void> {
  const current = await readNodeRuntime(dataDir);
  if (current?.pid === pid) await rm(runtimeFileOf(dataDir), { force: true });
}

/** True while a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
