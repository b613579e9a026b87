// Heartbeats on tps.heartbeat.worker.<instance>: the autoscaler's view of slots and busy slots.
import type { NatsConnection } from '@nats-io/transport-node';
import { heartbeatSubject } from '#platform/nats/subjects.ts';
import type { Heartbeat } from '#platform/nats/heartbeat-message.ts';

export function startHeartbeat(nc: NatsConnection, beat: () => Omit<Heartbeat, 'at'>, everyMs: number): () => void {
  const send = () => {
    const hb = beat();
    if (!nc.isClosed()) nc.publish(heartbeatSubject('worker', hb.instance), JSON.stringify({ ...hb, at: new Date().toISOString() } satisfies Heartbeat));
  };
  send();
  const timer = setInterval(send, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
