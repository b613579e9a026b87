// One NATS user per role, allowed exactly the subjects that role needs (least privilege). Only the
// operator user (the `tps` command, provisioning, the supervisor) may create streams or write the
// chaos and control buckets. The nats-server configuration for native mode and for compose is
// rendered from this one table (see server-config.ts).
import { poolDefinitions, poolNames, workerRole, type Pool } from '../pools.ts';
import type { NatsUserName } from '../roles.ts';
import {
  breakerReplySubject, breakerStatusSubject, buckets, dlqReplayedSubject, eventSubject, heartbeatSubject, poolDlqSubjects, poolJobSubjects, streams,
} from './subjects.ts';
import { advisorySubject, dlqMoverConsumer } from './topology.ts';

export type NatsPermissions = { publish: string[]; subscribe: string[] };
export type { NatsUserName };

const api = '$JS.API';

/**
 * Each user's inbox prefix (nats.js `inboxPrefix`, set in connect.ts from NATS_USER). Replies to its
 * requests, JetStream's PubAcks and API answers included, arrive only under it; a user may
 * subscribe to its own and publish into none, so a stolen credential can neither read another
 * role's replies nor forge one (a PubAck that makes the ingress answer 202 for a job never stored).
 */
export const inboxPrefix = (user: NatsUserName): string => `_INBOX.${user}`;
const inbox = (user: NatsUserName) => [`${inboxPrefix(user)}.>`];
/** Answering `tps breaker list`: its request names a reply subject of its own, never an inbox. */
const replies = [breakerReplySubject('*')];

/** Reading a KV bucket (get, history, watch) through the KV API. */
function kvRead(bucket: string): string[] {
  return [
    `${api}.STREAM.INFO.KV_${bucket}`,
    `${api}.CONSUMER.CREATE.KV_${bucket}.>`,
    `${api}.CONSUMER.DELETE.KV_${bucket}.>`,
    `${api}.CONSUMER.INFO.KV_${bucket}.>`,
    `${api}.DIRECT.GET.KV_${bucket}.>`,
    `${api}.STREAM.MSG.GET.KV_${bucket}`,
  ];
}

/** Reading a whole stream without changing it: its info, one message, and ordered consumers of its own. */
function streamRead(stream: string): string[] {
  return [
    `${api}.STREAM.INFO.${stream}`,
    `${api}.STREAM.MSG.GET.${stream}`,
    `${api}.CONSUMER.CREATE.${stream}.>`,
    `${api}.CONSUMER.DELETE.${stream}.>`,
    `${api}.CONSUMER.INFO.${stream}.>`,
    `${api}.CONSUMER.MSG.NEXT.${stream}.>`,
  ];
}

const kvWrite = (bucket: string) => [`$KV.${bucket}.>`];
/** Each pool's queue as it is now: its stream's info and its consumer's (depth, oldest message, ack pending). */
const queueInfo = poolNames.flatMap((pool) => [`${api}.STREAM.INFO.${poolDefinitions[pool].stream}`, `${api}.CONSUMER.INFO.${poolDefinitions[pool].stream}.${poolDefinitions[pool].consumer}`]);
/** Flow-control and heartbeat answers of the ordered consumers KV watches use. */
const flowControl = ['$JS.FC.>'];

function worker(pool: Pool): NatsPermissions {
  const def = poolDefinitions[pool];
  const user = workerRole(pool);
  const mover = dlqMoverConsumer(pool);
  return {
    publish: [
      `${api}.INFO`,
      `${api}.STREAM.INFO.${def.stream}`,
      `${api}.STREAM.INFO.${streams.dlq}`,
      `${api}.STREAM.INFO.${streams.advisories}`,
      `${api}.CONSUMER.INFO.${def.stream}.${def.consumer}`,
      `${api}.CONSUMER.MSG.NEXT.${def.stream}.${def.consumer}`,
      `$JS.ACK.${def.stream}.${def.consumer}.>`,
      `${api}.CONSUMER.INFO.${streams.advisories}.${mover}`,
      `${api}.CONSUMER.MSG.NEXT.${streams.advisories}.${mover}`,
      `$JS.ACK.${streams.advisories}.${mover}.>`,
      // The advisory safety net reads a timed-out job and removes it after dead-lettering it.
      `${api}.STREAM.MSG.GET.${def.stream}`,
      `${api}.STREAM.MSG.DELETE.${def.stream}`,
      // ...and re-publishes an advisory it still cannot act on (a full DLQ) before ADVISORIES expires it.
      advisorySubject(def.stream),
      poolDlqSubjects(pool),
      heartbeatSubject('worker', '*'),
      ...kvWrite(buckets.jobs), ...kvRead(buckets.jobs), ...kvRead(buckets.chaos), ...kvRead(buckets.control), ...flowControl, ...replies,
    ],
    subscribe: [...inbox(user), breakerStatusSubject, dlqReplayedSubject(pool)],
  };
}

export const natsUsers: Readonly<Record<NatsUserName, NatsPermissions>> = {
  operator: { publish: ['>'], subscribe: ['>'] },
  ingress: {
    publish: [
      `${api}.INFO`,
      ...poolNames.map((pool) => `${api}.STREAM.INFO.${poolDefinitions[pool].stream}`),
      ...poolNames.map(poolJobSubjects),
      ...kvWrite(buckets.jobs), ...kvRead(buckets.jobs), ...kvRead(buckets.chaos), ...flowControl,
      // Only the ingress claims and reads Idempotency-Keys (the operator may too, as it may anything).
      ...kvWrite(buckets.idempotency), ...kvRead(buckets.idempotency),
    ],
    subscribe: inbox('ingress'),
  },
  ...(Object.fromEntries(poolNames.map((pool) => [workerRole(pool), worker(pool)])) as Record<`worker-${Pool}`, NatsPermissions>),
  service: {
    publish: [
      `${api}.INFO`, ...kvRead(buckets.chaos), ...kvRead(buckets.control), ...flowControl, ...replies,
      // A caller rolls its next hop's canary back by itself (platform/canary.ts): that key only, and its event.
      `$KV.${buckets.control}.canary.>`, eventSubject('canary.>'),
    ],
    subscribe: [...inbox('service'), breakerStatusSubject],
  },
  autoscaler: {
    publish: [
      `${api}.INFO`,
      ...queueInfo,
      `${api}.STREAM.INFO.${streams.events}`,
      ...kvWrite(buckets.control), ...kvRead(buckets.control), ...kvRead(buckets.chaos), ...flowControl,
      eventSubject('autoscaler'), eventSubject('autoscaler.>'),
    ],
    subscribe: [...inbox('autoscaler'), heartbeatSubject('worker', '*')],
  },
  // Reads only: the console acts through the admin API, with the operator's token.
  console: {
    publish: [`${api}.INFO`, ...queueInfo, ...kvRead(buckets.chaos), ...kvRead(buckets.control), ...kvRead(buckets.jobs), ...streamRead(streams.dlq), ...streamRead(streams.events), ...flowControl],
    subscribe: inbox('console'),
  },
};


export const natsUserNames = Object.keys(natsUsers) as NatsUserName[];

/** The inbox prefix for a NATS_USER of this table; another server's own users keep nats.js' default. */
export function userInboxPrefix(user: string): string | undefined {
  return (natsUserNames as string[]).includes(user) ? inboxPrefix(user as NatsUserName) : undefined;
}

/** The environment variable that carries a user's password (compose .env, nats.conf). */
export const passwordVariable = (user: NatsUserName) => `NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
