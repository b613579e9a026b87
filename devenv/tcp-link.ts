// A network link of the test's own between two processes on loopback: a TCP relay that can be cut
// (every connection through it dropped, new ones refused at once) and healed. The partition test
// of the NATS cluster routes each pair of nodes through one, so cutting a node's links cuts it off
// from the others while its clients still reach it: a network split without touching the host's
// network.
import net from 'node:net';

export type TcpLink = {
  /** Where the link listens: connect here to reach the target. */
  port: number;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
};

export async function openTcpLink(targetPort: number, host = '127.0.0.1'): Promise<TcpLink> {
  const open = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((inbound) => {
    if (cut) return void inbound.destroy();
    const outbound = net.connect(targetPort, host);
    for (const socket of [inbound, outbound]) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      // A reset on one side ends the pair, as it would for the two ends of a real connection.
      socket.once('error', () => { inbound.destroy(); outbound.destroy(); });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ port: 0, host }, () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    heal() { cut = false; },
    close() {
      cut = true;
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
