// The live-parameter lever, one implementation for `tps config` (and the admin API to come): list
// each parameter with its override, set one (validated against the catalogue), reset one or all.
// Each change goes to tps_control, where the roles pick it up, and into the audit trail
// (tps.events.config.set|reset), which `tps status` and the Grafana annotations read back.
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ControlStore } from '../control/store.ts';
import { AppError } from '../errors.ts';
import { publishAuditEvent } from '../nats/audit-events.ts';
import { findParameter, parameterCatalogue, parameterNames, parseParameterValue, type ParameterDef, type ParameterName, type ParameterValue } from './catalogue.ts';

export type ParameterView = ParameterDef & { override?: ParameterValue };
export type ParameterChange = { name: ParameterName; value?: number; previous?: number };

export function validParameter(name: string): ParameterDef & { name: ParameterName } {
  const p = findParameter(name);
  if (!p) throw new AppError('INVALID_REQUEST', { detail: `Unknown parameter "${name}"; parameters are ${parameterNames.join(', ')}.` });
  return p as ParameterDef & { name: ParameterName };
}

export function parameterOperations(nc: NatsConnection, control: ControlStore) {
  const js = jetstream(nc);
  const audit = (what: 'set' | 'reset', fields: Record<string, unknown>, by: string) => publishAuditEvent(js, `config.${what}`, by, fields);

  return {
    async list(): Promise<ParameterView[]> {
      return Promise.all(parameterCatalogue.map(async (p) => {
        const override = await control.parameter(p.name);
        return { ...p, ...(override ? { override } : {}) };
      }));
    },
    async set(name: string, text: string, by: string, reason?: string): Promise<ParameterChange> {
      const p = validParameter(name);
      const parsed = parseParameterValue(p, text);
      if ('error' in parsed) throw new AppError('INVALID_REQUEST', { detail: parsed.error });
      const previous = (await control.parameter(p.name))?.value;
      await control.setParameter(p.name, parsed.value, { by, at: new Date().toISOString(), ...(reason ? { reason } : {}) });
      await audit('set', { name: p.name, from: previous ?? null, to: parsed.value, ...(reason ? { reason } : {}) }, by);
      return { name: p.name, value: parsed.value, ...(previous !== undefined ? { previous } : {}) };
    },
    /** Removes the override of `name` (or of every parameter): each role goes back to its start-up value. */
    async reset(name: string | 'all', by: string): Promise<ParameterChange[]> {
      const names = name === 'all' ? parameterNames : [validParameter(name).name];
      const changes: ParameterChange[] = [];
      for (const n of names) {
        const previous = (await control.parameter(n))?.value;
        if (previous === undefined) continue;
        await control.setParameter(n, undefined, { by, at: new Date().toISOString() });
        await audit('reset', { name: n, from: previous }, by);
        changes.push({ name: n, previous });
      }
      return changes;
    },
  };
}

export type ParameterOperations = ReturnType<typeof parameterOperations>;
