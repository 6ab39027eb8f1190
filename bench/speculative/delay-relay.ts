import net from "node:net";

export interface DelayRelay {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy that holds every chunk for `oneWayMs` in each direction, so a connection through it has a
 * round trip of 2 × oneWayMs on top of loopback. It stands in for netem, which this kernel lacks (see
 * README.md). Chunks keep their order: timers of equal delay fire in the order they were set.
 */
export async function startDelayRelay(options: { targetPort: number; oneWayMs: number; host?: string }): Promise<DelayRelay> {
  const host = options.host ?? "127.0.0.1";
  const sockets = new Set<net.Socket>();
  // Node timers take whole milliseconds: one direction rounds down and the other up, so the round trip
  // is exact (5 ms = 2 + 3).
  const forward = (from: net.Socket, to: net.Socket, delayMs: number) => {
    from.on("data", (chunk) => {
      if (delayMs <= 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), delayMs);
    });
    from.on("end", () => setTimeout(() => to.end(), delayMs));
    from.on("error", () => to.destroy());
    from.on("close", () => setTimeout(() => to.destroy(), delayMs));
  };
  const server = net.createServer((inbound) => {
    inbound.setNoDelay(true);
    const outbound = net.connect({ host, port: options.targetPort });
    outbound.setNoDelay(true);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    forward(inbound, outbound, Math.floor(options.oneWayMs));
    forward(outbound, inbound, Math.ceil(options.oneWayMs));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
