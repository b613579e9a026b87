// The catalogue as people read it (`tps chaos faults`, the table in docs/chaos.md): each
// parameter with its limits and default, and the targets a fault can be aimed at.
import { z } from 'zod';
import { faultCatalogue, processTargets, systemFaultTargets, type FaultName } from '#platform/chaos/catalogue.ts';

export type ParamDescription = { name: string; integer: boolean; min?: number; max?: number; default?: unknown; required: boolean };

type JsonSchemaNumber = { type?: string; minimum?: number; maximum?: number; default?: unknown };

export function describeParams(fault: FaultName): ParamDescription[] {
  const schema = z.toJSONSchema(faultCatalogue[fault].params, { io: 'input' }) as { properties?: Record<string, JsonSchemaNumber>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name, integer: p.type === 'integer', required: schema.required?.includes(name) ?? false,
    ...(p.minimum !== undefined ? { min: p.minimum } : {}), ...(p.maximum !== undefined ? { max: p.maximum } : {}),
    ...(p.default !== undefined ? { default: p.default } : {}),
  }));
}

/** `ms` 1..120000 (integer), `jitter` 0..60000 default 0 */
export function paramsText(fault: FaultName): string {
  const params = describeParams(fault);
  if (params.length === 0) return 'none';
  return params.map((p) => `${p.name} ${p.min ?? ''}..${p.max ?? ''}${p.default !== undefined ? ` (default ${String(p.default)})` : p.required ? ' (required)' : ''}`).join(', ');
}

export function targetsOf(fault: FaultName): readonly string[] {
  const def = faultCatalogue[fault];
  if ('targets' in def) return def.targets;
  return def.kind === 'system' ? (systemFaultTargets[fault] ?? []) : processTargets;
}

