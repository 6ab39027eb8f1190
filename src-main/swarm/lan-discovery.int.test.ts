import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

// mDNS multicasts and UPnP/AutoNAT talk to routers: run against the real network they would leave this
// machine. So the child runs in a network namespace created here (`unshare --net`, root only) that holds
// nothing but a loopback with multicast switched on.
const child = path.join(import.meta.dirname, "lan-discovery.test-child.ts");
const probe = spawnSync("unshare", ["--net", "true"]);
const namespacesWork = probe.status === 0;
const why = namespacesWork ? "" : `cannot create a network namespace here (unshare --net: ${probe.error?.message ?? probe.stderr.toString().trim()}); run as root`;

describe("LAN discovery and NAT options, inside a private network namespace", () => {
  it.skipIf(!namespacesWork)(`two nodes find each other by mDNS and talk, one with the NAT services on${why ? ` [skipped: ${why}]` : ""}`, () => {
    const script = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec \"$0\" --import tsx \"$1\"";
    const run = spawnSync("unshare", ["--net", "sh", "-c", script, process.execPath, child], { encoding: "utf8", timeout: 60_000, cwd: path.resolve(import.meta.dirname, "../..") });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { discoveredMs: number | null; pingMs: number | null; error: string | null; natServices: string[] };
    expect(seen.error).toBeNull();
    expect(seen.discoveredMs).not.toBeNull();
    expect(seen.pingMs).toBeGreaterThanOrEqual(0);
    expect(seen.natServices).toEqual(["autonat", "dcutr", "upnp"]);
  });
});
