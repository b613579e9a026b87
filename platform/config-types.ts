// Strict parsers for environment values: a malformed value is an error, never a silent default.
import { z } from 'zod';

/** Unset and empty mean the same: compose files often pass `FOO=` to mean "use the default". */
export function unset(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export const text = z.string().min(1);

export function integer({ min, max }: { min: number; max: number }) {
  return z
    .string()
    .regex(/^-?\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

export function decimal({ min, max }: { min: number; max: number }) {
  return z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'expected a number such as 0.5')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

export const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'expected http://host:port').transform((u) => u.replace(/\/+$/, ''));

const unitsMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "1500", "1500ms", "2s", "5m", "1h" -> milliseconds. A bare number is in `bare`: milliseconds
 * for settings, seconds where a person types it (`tps chaos set ... --duration 90`). */
export function parseDuration(value: string, bare: 'ms' | 's' = 'ms'): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (unitsMs[match[2] ?? bare] ?? 1));
}

export const durationMs = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a positive duration such as 500, 500ms, 2s, 5m' });
    return z.NEVER;
  }
  return ms;
});

/** true/false, 1/0, yes/no, on/off. */
export const flag = z
  .string()
  .regex(/^(true|false|1|0|yes|no|on|off)$/i, 'expected true or false')
  .transform((v) => /^(true|1|yes|on)$/i.test(v));

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** One or more comma-separated nats:// URLs. */
export const natsUrls = z.string().transform((value, ctx) => {
  const urls = value.split(',').map((u) => u.trim()).filter(Boolean);
  const bad = urls.filter((u) => !/^(nats|tls|ws|wss):\/\/[^\s/]+$/.test(u) && !/^[\w.-]+:\d+$/.test(u));
  if (urls.length === 0 || bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `expected nats://host:port[,nats://host:port...], got ${bad.join(', ') || 'nothing'}` });
    return z.NEVER;
  }
  return urls;
});
