// The local control channel to the native supervisor, which carries out the system faults
// (nats_down, monitoring_down, autoscaler_down). It is a unix socket in the state folder, mode 0600,
// not NATS: nats_down could not be cleared through NATS once NATS is down, and a socket only the
// local user can open keeps stopping processes a local privilege.
import { http } from '#platform/http/node-http.ts';
import path from 'node:path';
import { z } from 'zod';
import { activeFaultSchema, ChaosInputError, type ActiveFault } from '#platform/chaos/catalogue.ts';

export const supervisorSocket = (stateDir: string) => path.join(stateDir, 'supervisor.sock');

/** Unix socket paths are limited to 107 bytes on Linux. */
export const maxSocketPath = 107;

export const setSystemFaultSchema = z.strictObject({
  target: z.string(),
  fault: z.string(),
  params: z.record(z.string(), z.unknown()).optional(),
  durationMs: z.number().optional(),
  by: z.string().default('unknown'),
});
export const clearSystemFaultSchema = z.strictObject({ target: z.string(), fault: z.string().optional(), by: z.string().default('unknown') });
export const resetSystemFaultsSchema = z.strictObject({ by: z.string().default('unknown') });

const faultsReply = z.object({ faults: z.array(activeFaultSchema) });
const faultReply = z.object({ fault: activeFaultSchema });
/** How the supervisor answers a request it cannot carry out, on every route. */
export const errorReply = z.object({ error: z.string(), kind: z.enum(['input', 'refused']) });

/** No supervisor answers on the socket: TPS Lab is not running natively here. */
export class SupervisorNotRunning extends Error {
  constructor(socket: string, cause?: unknown) {
    super(`no supervisor answers at ${socket}`, { cause });
    this.name = 'SupervisorNotRunning';
  }
}

/** The supervisor understood the request but cannot carry it out (the message says why). */
export class SystemFaultRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SystemFaultRefused';
  }
}

export type SupervisorChannel = {
  set(request: z.input<typeof setSystemFaultSchema>): Promise<ActiveFault>;
  clear(request: z.input<typeof clearSystemFaultSchema>): Promise<ActiveFault[]>;
  list(): Promise<ActiveFault[]>;
  reset(by: string): Promise<ActiveFault[]>;
};

export function supervisorChannel(stateDir: string, timeoutMs = 30_000): SupervisorChannel {
  const socket = supervisorSocket(stateDir);
  const call = async <T>(method: string, route: string, body: unknown, schema: z.ZodType<T>): Promise<T> => {
    const { status, json } = await requestSupervisor(socket, method, route, body, timeoutMs);
    if (status >= 400) {
      const err = errorReply.safeParse(json);
      const message = err.success ? err.data.error : `the supervisor answered ${status}`;
      throw err.success && err.data.kind === 'input' ? new ChaosInputError(message) : new SystemFaultRefused(message);
    }
    return schema.parse(json);
  };
  return {
    set: async (req) => (await call('POST', '/faults', req, faultReply)).fault,
    clear: async (req) => (await call('POST', '/clear', req, faultsReply)).faults,
    list: async () => (await call('GET', '/faults', undefined, faultsReply)).faults,
    reset: async (by) => (await call('POST', '/reset', { by }, faultsReply)).faults,
  };
}

/** One JSON request on the supervisor's socket; SupervisorNotRunning when nothing answers there. */
export function requestSupervisor(socketPath: string, method: string, route: string, body: unknown, timeoutMs: number): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath, method, path: route, headers: payload ? { 'content-type': 'application/json' } : {}, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        try { resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }); } catch (err) { reject(err); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`the supervisor did not answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(err.code ?? '') ? new SupervisorNotRunning(socketPath, err) : err);
    });
    req.end(payload);
  });
}
