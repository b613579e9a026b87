// One nats-server for a test file of ingress suites, the queues emptied before each test, and
// ingresses started on demand and stopped after each test. Call it at the top of the file: it
// registers the vitest hooks itself.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { startNatsServer, type NatsServerHandle } from './nats-server.ts';
import { provisioned, startTestRole, testConfig } from './roles.ts';

export type StoredJob = { subject: string; id: string | undefined; body: Record<string, unknown> };

export type IngressFixture = {
  readonly server: NatsServerHandle;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** Starts an ingress with this environment (provisioned for it); its URL. */
  ingress(env?: Record<string, string>): Promise<string>;
  /** Every job a stream holds, oldest first. */
  storedJobs(stream: string): Promise<StoredJob[]>;
};

export function useIngressFixture(): IngressFixture {
  const stops: Array<() => Promise<void>> = [];
  const state: { server?: NatsServerHandle; nc?: NatsConnection; jsm?: JetStreamManager } = {};
  beforeAll(async () => {
    state.server = await startNatsServer();
    state.nc = await provisioned(state.server.url);
    state.jsm = await jetstreamManager(state.nc);
  });
  afterAll(async () => {
    await state.nc?.close();
    await state.server?.dispose();
  });
  beforeEach(async () => {
    await provision(fixture.nc, declareTopology(testConfig(fixture.server.url)));
    for (const stream of ['JOBS_FAST', 'JOBS_SLOW', 'KV_tps_jobs', 'KV_tps_idempotency']) await fixture.jsm.streams.purge(stream);
  });
  afterEach(async () => {
    while (stops.length) await stops.pop()?.();
  });
  const fixture: IngressFixture = {
    get server() { return required(state.server); },
    get nc() { return required(state.nc); },
    get jsm() { return required(state.jsm); },
    async ingress(env = {}) {
      const config = testConfig(fixture.server.url, env);
      await provision(fixture.nc, declareTopology(config));
      const role = await startTestRole('ingress', config);
      stops.push(role.stop);
      return `http://127.0.0.1:${role.result}`;
    },
    storedJobs: (stream) => storedJobs(fixture.jsm, stream),
  };
  return fixture;
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the ingress fixture is used before its beforeAll ran');
  return value;
}

async function storedJobs(jsm: JetStreamManager, stream: string): Promise<StoredJob[]> {
  const info = await jsm.streams.info(stream);
  const out: StoredJob[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg) out.push({ subject: msg.subject, id: msg.header?.get('Nats-Msg-Id'), body: msg.json<Record<string, unknown>>() });
  }
  return out;
}
