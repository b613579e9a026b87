import net from 'node:net';
import { defaultPorts } from '#platform/ports.ts';

/** True when nothing listens on host:port (we could bind it ourselves). */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port nothing listens on now, chosen by the system. */
export function anyFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Role ports another program holds: a message for the operator, as is (cli/output.ts). */
export class PortsTakenError extends Error {
  override name = 'PortsTakenError';
}

/** Refuses a start whose role ports are taken, saying which, and how to run beside what holds them. */
export async function ensurePortsFree(planned: ReadonlyArray<{ name: string; port: number }>, offset: number): Promise<void> {
  const busy = [];
  for (const i of planned) if (!(await portFree(i.port))) busy.push(`${i.name} (${i.port})`);
  if (busy.length === 0) return;
  const next = offset + 100;
  throw new PortsTakenError(`ports already in use: ${busy.join(', ')}. Is TPS Lab already running (\`tps down\`)? If another program holds them, stop it, or move every port of TPS Lab: TPS_PORT_OFFSET=${next} make up (ingress then on ${defaultPorts.ingress + next})`);
}
