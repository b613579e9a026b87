// The worker heartbeat, the one message on `tps.heartbeat.worker.<instance>`: what a worker
// process has (slots) and uses (busy). Workers send it, the autoscaler and `tps scale` read it,
// all through this schema.
import type { Msg } from '@nats-io/transport-node';
import { z } from 'zod';
import { poolNames } from '../pools.ts';

export const heartbeatSchema = z.object({
  instance: z.string(),
  pool: z.enum(poolNames),
  slots: z.number().int().min(0),
  busy: z.number().min(0),
  at: z.string(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/** The heartbeat a message carries, or undefined when it is not one. */
export function readHeartbeat(msg: Msg): Heartbeat | undefined {
  try {
    const parsed = heartbeatSchema.safeParse(msg.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
