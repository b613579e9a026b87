// Free local ports for the processes a test (or a benchmark) starts itself.
import net from 'node:net';

/** A port nothing listens on now (so a stale process from an earlier run cannot answer for us). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
