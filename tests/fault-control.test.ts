// The supervisor's system faults keep a NATS connection of their own (to copy the faults into the
// tps_chaos bucket), made in the background as the supervisor starts. A stop that comes while it
// is still being made (Ctrl-C right after the roles are ready) must end it too: left open, it kept
// reconnecting once nats-server had stopped, and the supervisor never exited.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { startFaultControl } from '#operator/supervisor/fault-control.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';

let server: NatsServerHandle;
beforeAll(async () => { server = await startNatsServer(); });
afterAll(async () => { await server?.dispose(); });

/** The supervisor's chaos connections the test's nats-server has seen (open or since closed), from its monitoring endpoint. */
async function chaosConnections(): Promise<Array<{ open: boolean }>> {
  const res = await fetch(`http://127.0.0.1:${server.monitorPort}/connz?state=all`);
  const body = (await res.json()) as { connections?: Array<{ name?: string; stop?: string }> };
  return (body.connections ?? []).filter((c) => c.name === 'tps-supervisor-chaos').map((c) => ({ open: c.stop === undefined }));
}

function faultControl() {
  const config = loadConfig({ NATS_URL: server.url });
  return startFaultControl({
    nats: config.nats,
    logger: createLogger('supervisor', { ...config, log: { level: 'silent' } }),
    host: { nats: { url: server.url, managed: false }, processNames: () => [], pause: async () => false, resume: async () => false, changed: () => {}, say: () => {} },
  });
}

it('closed while its connection is still being made, it leaves no connection behind', async () => {
  const control = faultControl();
  // Its first copy to the bucket has started connecting (a TCP connect and the NATS handshake away).
  await new Promise((resolve) => setImmediate(resolve));
  await control.close();
  // The server saw the connection, and it is closed (left open, it stays open for good).
  const seen = await waitFor(async () => {
    const all = await chaosConnections();
    return all.length > 0 && all.every((c) => !c.open) ? all : undefined;
  }, 10_000, () => 'the chaos connection to be made and closed');
  expect(seen).toHaveLength(1);
});
