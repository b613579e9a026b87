// A TCP proxy the test controls, between the roles and nats-server, for the one network fault a
// process stop cannot show: a black hole (reliability matrix R5). While black-holed it keeps every
// socket open and forwards nothing, as a dead route or a frozen peer does: no FIN, no RST, so a
// client notices only by its own pings going unanswered.
import net from 'node:net';

export type TcpProxy = {
  url: string;
  port: number;
  /** Stop forwarding, both ways, on every connection, and for new ones; close nothing. */
  blackhole(): void;
  /** Forward again (connections opened meanwhile stay dead: their handshake was swallowed). */
  heal(): void;
  close(): Promise<void>;
};

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let blackholed = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    // A connection born in the black hole never gets its upstream's greeting: it stays dead.
    const bornDead = blackholed;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
      s.on('error', () => undefined);
    }
    client.on('data', (d) => { if (!blackholed && !bornDead) upstream.write(d); });
    upstream.on('data', (d) => { if (!blackholed && !bornDead) client.write(d); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    blackhole: () => { blackholed = true; },
    heal: () => { blackholed = false; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
