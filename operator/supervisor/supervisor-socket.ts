// The supervisor's local control channel: a tiny HTTP/JSON API on a unix socket in the state
// folder, mode 0600, so only the user who runs TPS Lab can stop and start its processes.
//   GET  /faults                              -> { faults }
//   POST /faults {target, fault, durationMs}  -> { fault }      (400 bad input, 409 refused)
//   POST /clear  {target, fault?}             -> { faults }     (what was cleared)
//   POST /reset                               -> { faults }
//   POST /replicas {pool, replicas}           -> the change     (400 bad input, 409 refused)
//   POST /canary/start|stop|promote {service, version?} -> what started and stopped (canary-channel.ts)
import { chmodSync, rmSync } from 'node:fs';
import { http } from '#platform/http/node-http.ts';
import type { z } from 'zod';
import { ChaosInputError } from '#platform/chaos/catalogue.ts';
import {
  clearSystemFaultSchema, maxSocketPath, resetSystemFaultsSchema, setSystemFaultSchema, supervisorSocket, SystemFaultRefused,
} from './channel.ts';
import { ReplicaInputError, ReplicaScaleRefused, scaleReplicasSchema } from './replica-channel.ts';
import type { ReplicaScaler } from './replica-scaler.ts';
import { CanaryInputError, CanaryRefused, canaryRequestSchema } from './canary-channel.ts';
import type { CanaryProcesses } from './canary-process.ts';
import type { SystemFaults } from './system-faults.ts';

export type ControlSocket = { close(): Promise<void> };
export type ControlHandlers = { faults: SystemFaults; replicas: ReplicaScaler; canaries: CanaryProcesses };

const maxBodyBytes = 16 * 1024;
const isInputError = (err: unknown) => err instanceof ChaosInputError || err instanceof ReplicaInputError || err instanceof CanaryInputError;
const isRefusal = (err: unknown) => err instanceof SystemFaultRefused || err instanceof ReplicaScaleRefused || err instanceof CanaryRefused;

/** Opens the socket, or says why not (a path too long for a unix socket) and runs without it. */
export async function openControlSocket(stateDir: string, handlers: ControlHandlers, say: (line: string) => void): Promise<ControlSocket | undefined> {
  const socketPath = supervisorSocket(stateDir);
  if (Buffer.byteLength(socketPath) <= maxSocketPath) return serveControlSocket(socketPath, handlers);
  say(`System faults (nats_down, monitoring_down, autoscaler_down) and live replicas (tps scale --replicas) unavailable: the control socket path ${socketPath} is longer than a unix socket allows; use a shorter TPS_STATE_DIR.`);
  return undefined;
}

function routesFor({ faults, replicas, canaries }: ControlHandlers): Record<string, (body: unknown) => Promise<unknown>> {
  const canary = (body: unknown) => parse(canaryRequestSchema, body, CanaryInputError);
  return {
    'POST /canary/start': async (body) => { const r = canary(body); return canaries.start(r.service, r.version, r.by); },
    'POST /canary/stop': async (body) => { const r = canary(body); return canaries.stop(r.service, r.by); },
    'POST /canary/promote': async (body) => { const r = canary(body); return canaries.promote(r.service, r.version, r.by); },
    'GET /faults': async () => ({ faults: faults.list() }),
    'POST /faults': async (body) => {
      const { by, ...request } = parse(setSystemFaultSchema, body, ChaosInputError);
      return { fault: await faults.set(request, by) };
    },
    'POST /clear': async (body) => {
      const { target, fault, by } = parse(clearSystemFaultSchema, body, ChaosInputError);
      return { faults: await faults.clear(target, fault, by) };
    },
    'POST /reset': async (body) => ({ faults: await faults.reset(parse(resetSystemFaultsSchema, body, ChaosInputError).by) }),
    'POST /replicas': async (body) => {
      const { pool, replicas: count, by } = parse(scaleReplicasSchema, body, ReplicaInputError);
      return replicas.scale(pool, count, by);
    },
  };
}

async function serveControlSocket(socketPath: string, handlers: ControlHandlers): Promise<ControlSocket> {
  const routes = routesFor(handlers);
  const server = http.createServer((req, res) => {
    const reply = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    const route = routes[`${req.method} ${req.url}`];
    if (!route) return reply(404, { error: `no route ${req.method} ${req.url}`, kind: 'input' });
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > maxBodyBytes) req.destroy();
    });
    req.on('end', () => {
      route(text ? safeJson(text) : {}).then((json) => reply(200, json), (err: unknown) => {
        if (isInputError(err)) return reply(400, { error: (err as Error).message, kind: 'input' });
        reply(409, { error: isRefusal(err) ? (err as Error).message : `the supervisor failed: ${(err as Error).message}`, kind: 'refused' });
      });
    });
  });

  // A socket left by a supervisor that died is in the way; a live one was ruled out by the state file.
  rmSync(socketPath, { force: true });
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  } finally {
    process.umask(umask);
  }
  chmodSync(socketPath, 0o600);
  return {
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      rmSync(socketPath, { force: true });
    }),
  };
}

function parse<S extends z.ZodType>(schema: S, body: unknown, InputError: new (message: string) => Error): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw new InputError(`bad request to the supervisor: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return result.data;
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}
