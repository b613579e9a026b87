// The console's actions on the system's levers, each as its `tps` command does it: the session
// check (is this token good?), breakers forced open or given back, a pool's slots, the autoscaler
// on or off, a process fault set or cleared. Every one is same-origin and carries the operator's token; the admin API judges the
// token, carries the action out and records it as an audit event.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ChaosInputError, parseFaultParams, type ActiveFault } from '#platform/chaos/catalogue.ts';
import { AppError } from '#platform/errors.ts';
import type { Logger } from '#platform/logger.ts';
import type { AdminClient } from './admin-client.ts';
import { action, requireToken } from './guard.ts';

const breakerBody = z.strictObject({ name: z.string().min(1).max(200) });
const scaleBody = z.strictObject({ pool: z.string().min(1).max(50), slots: z.number().int().min(0).max(100_000) });
const autoscalerBody = z.strictObject({ enabled: z.boolean() });
// Parameters as `tps chaos set` takes them (`ms=5000 jitter=100`); the admin API's catalogue judges the rest.
const chaosBody = z.strictObject({ target: z.string().min(1).max(60), fault: z.string().min(1).max(60), params: z.string().max(200).default(''), durationMs: z.number().int().positive() });
const chaosClearBody = z.strictObject({ target: z.string().min(1).max(60), fault: z.string().min(1).max(60) });

function faultParams(text: string): Record<string, unknown> {
  try {
    return parseFaultParams(text.split(/\s+/).filter(Boolean));
  } catch (err) {
    if (err instanceof ChaosInputError) throw new AppError('INVALID_REQUEST', { detail: err.message });
    throw err;
  }
}

export function registerLeverRoutes(app: FastifyInstance, deps: { admin: AdminClient; logger: Logger }): void {
  // Actions: same origin, a token, then the admin API decides.
  app.get('/api/session', async (request) => {
    const authorization = requireToken(request);
    await deps.admin.call('GET', '/admin/breakers', authorization);
    return { admin: true };
  });
  app.post('/api/breakers/:action', async (request) => {
    const act = (request.params as { action: string }).action;
    if (act !== 'open' && act !== 'auto') throw new AppError('NOT_FOUND', { detail: '(breakers: open or auto)' });
    const { authorization, body } = action(request, breakerBody);
    const answer = await deps.admin.call('POST', `/admin/breakers/${act === 'open' ? 'open' : 'close'}`, authorization, body);
    deps.logger.info({ breaker: body.name, action: act, ip: request.ip }, 'console: breaker action passed to the admin API');
    return { ...(answer as object), message: act === 'open' ? `Breaker ${body.name} forced open.` : `Breaker ${body.name} back to automatic.` };
  });
  // The pools' levers, as `tps scale` and `tps autoscaler enable|disable`.
  app.post('/api/scale', async (request) => {
    const { authorization, body } = action(request, scaleBody);
    const answer = await deps.admin.call('POST', '/admin/scale', authorization, body) as { previous?: number; autoscalerEnabled?: boolean };
    const note = answer.autoscalerEnabled ? ' The autoscaler is on and may move it again: turn it off to hold it.' : '';
    return { ...answer, message: `${body.pool} pool: ${body.slots} slots per worker (was ${answer.previous ?? 'its start-up value'}).${note}` };
  });
  app.post('/api/autoscaler', async (request) => {
    const { authorization, body } = action(request, autoscalerBody);
    const answer = await deps.admin.call('POST', '/admin/autoscaler', authorization, body);
    return { ...(answer as object), message: body.enabled ? 'Autoscaler on.' : 'Autoscaler off: the slots stay where you set them.' };
  });
  // Process faults, as `tps chaos set|clear`; the admin API refuses system faults.
  app.post('/api/chaos', async (request) => {
    const { authorization, body } = action(request, chaosBody);
    const { fault } = await deps.admin.call('POST', '/admin/chaos', authorization, { ...body, params: faultParams(body.params) }) as { fault: ActiveFault };
    return { fault, message: `${fault.fault} on ${fault.target} until ${fault.expiresAt.slice(11, 19)} UTC.` };
  });
  app.post('/api/chaos/clear', async (request) => {
    const { authorization, body } = action(request, chaosClearBody);
    const { cleared } = await deps.admin.call('POST', '/admin/chaos/clear', authorization, body) as { cleared: ActiveFault[] };
    return { cleared, message: cleared.length ? `Cleared ${body.fault} on ${body.target}.` : `${body.fault} on ${body.target} was not active any more.` };
  });
}
