// What the operator commands share: a short NATS session (closed however the command ends), the
// name changes are recorded under, and table output.
import os from 'node:os';
import { loadConfig, type Config } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { connectNats, type NatsConnection } from '#platform/nats/connect.ts';

export type Session = { config: Config; nc: NatsConnection };

export async function withNats<T>(name: string, run: (session: Session) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger('tps', { ...config, log: { level: 'warn' } });
  const nc = await connectNats(config.nats, { name: `tps-${name}`, logger });
  try {
    return await run({ config, nc });
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}

/** Who made a change, as recorded in tps_control and the audit events. */
export function operator(): string {
  let user = 'unknown';
  try { user = os.userInfo().username; } catch { /* no passwd entry (containers) */ }
  return `tps (${user}@${os.hostname()})`;
}

/** Left-aligned columns; the header row first. */
export function table(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length))) ?? [];
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}
