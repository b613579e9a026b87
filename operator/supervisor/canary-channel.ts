// `tps canary` reaches the native supervisor through its control socket: start a service's canary
// process on a version, stop it, and restart the stable process on the promoted version
// (POST /canary/start|stop|promote). The routes and the command share these schemas and errors.
import { z } from 'zod';
import { errorReply, requestSupervisor, supervisorSocket } from './channel.ts';

export const canaryRequestSchema = z.strictObject({
  service: z.string(),
  /** start: the canary's version; promote: the version the stable process restarts on. */
  version: z.string().optional(),
  by: z.string().default('unknown'),
});

const processView = z.object({ name: z.string(), url: z.string(), pid: z.number().optional(), ready: z.boolean(), version: z.string().optional() });
export type CanaryProcessView = z.output<typeof processView>;
export const canaryReplySchema = z.object({ service: z.string(), started: z.array(processView), stopped: z.array(z.object({ name: z.string(), exit: z.string() })) });
export type CanaryReply = z.output<typeof canaryReplySchema>;

/** A request the supervisor cannot take as given (not a canaried service, a bad version name). */
export class CanaryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanaryInputError';
  }
}

/** A valid request the supervisor cannot carry out now (a canary already runs, its port is taken, it never got ready). */
export class CanaryRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanaryRefused';
  }
}

export type CanaryAction = 'start' | 'stop' | 'promote';

/** The client side; `timeoutMs` must cover a process stopping (draining) and another getting ready. */
export function canaryChannel(stateDir: string, timeoutMs: number) {
  const socket = supervisorSocket(stateDir);
  return async (action: CanaryAction, request: z.input<typeof canaryRequestSchema>): Promise<CanaryReply> => {
    const { status, json } = await requestSupervisor(socket, 'POST', `/canary/${action}`, request, timeoutMs);
    if (status < 400) return canaryReplySchema.parse(json);
    const err = errorReply.safeParse(json);
    const message = err.success ? err.data.error : `the supervisor answered ${status}`;
    throw err.success && err.data.kind === 'input' ? new CanaryInputError(message) : new CanaryRefused(message);
  };
}
