// platform/nats/outbox.ts: a connection's writes of one turn, run together at the next check phase
// in the order they were deferred (so nats.js flushes them in one socket write); one failing write
// does not stop the others; each connection has its own.
import type { NatsConnection } from '@nats-io/transport-node';
import { expect, it } from 'vitest';
import { outboxOf } from '#platform/nats/outbox.ts';

const checkPhase = () => new Promise((resolve) => setImmediate(resolve));
const connection = () => ({}) as NatsConnection;

it('runs the writes of a turn together at the next check phase, in order, past one that throws', async () => {
  const nc = connection();
  const ran: string[] = [];
  outboxOf(nc).defer(() => ran.push('status note'));
  outboxOf(nc).defer(() => { throw new Error('connection closed'); });
  outboxOf(nc).defer(() => ran.push('ack'));
  expect(ran).toEqual([]);
  await Promise.resolve(); // microtasks alone do not run them: nats.js would flush each burst apart
  expect(ran).toEqual([]);
  await checkPhase();
  expect(ran).toEqual(['status note', 'ack']);
  outboxOf(nc).defer(() => ran.push('next turn'));
  await checkPhase();
  expect(ran).toEqual(['status note', 'ack', 'next turn']);
});

it('keeps one outbox per connection', () => {
  const [a, b] = [connection(), connection()];
  expect(outboxOf(a)).toBe(outboxOf(a));
  expect(outboxOf(a)).not.toBe(outboxOf(b));
});
