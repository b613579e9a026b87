// `tps scale <pool> --replicas <n>` reaches the native supervisor through its control socket
// (POST /replicas). The route and the command share these schemas and errors.
import { z } from 'zod';
import { errorReply, requestSupervisor, supervisorSocket } from './channel.ts';

export const scaleReplicasSchema = z.strictObject({
  pool: z.string(),
  replicas: z.number(),
  by: z.string().default('unknown'),
});

const replicaView = z.object({ name: z.string(), url: z.string(), pid: z.number().optional(), ready: z.boolean() });
export type ReplicaView = z.output<typeof replicaView>;

export const replicaChangeSchema = z.object({
  pool: z.string(),
  previous: z.number(),
  replicas: z.number(),
  started: z.array(replicaView),
  /** Each stopped replica with how it ended ("exited with code 0" after a clean drain). */
  stopped: z.array(z.object({ name: z.string(), exit: z.string() })),
  /** The pool's replicas after the change. */
  instances: z.array(replicaView),
});
export type ReplicaChange = z.output<typeof replicaChangeSchema>;

/** A request the supervisor cannot take as given (unknown pool, count out of bounds). */
export class ReplicaInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaInputError';
  }
}

/** A valid request the supervisor cannot carry out now (stopping, a port taken, a replica that fails). */
export class ReplicaScaleRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaScaleRefused';
  }
}

/** The client side; `timeoutMs` must cover stopping replicas that drain their running jobs. */
export function replicaChannel(stateDir: string, timeoutMs: number) {
  const socket = supervisorSocket(stateDir);
  return {
    async scale(request: z.input<typeof scaleReplicasSchema>): Promise<ReplicaChange> {
      const { status, json } = await requestSupervisor(socket, 'POST', '/replicas', request, timeoutMs);
      if (status < 400) return replicaChangeSchema.parse(json);
      const err = errorReply.safeParse(json);
      const message = err.success ? err.data.error : `the supervisor answered ${status}`;
      throw err.success && err.data.kind === 'input' ? new ReplicaInputError(message) : new ReplicaScaleRefused(message);
    },
  };
}
