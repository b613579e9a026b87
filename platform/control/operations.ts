// The operator's levers, one implementation for `tps` and the admin API: scale a pool, turn the
// autoscaler on or off or cap it, force a breaker open or close it. Each validates its input,
// writes tps_control (so every replica obeys), and records an audit event on tps.events.control.
import { jetstream } from '@nats-io/jetstream';
import { nuid, type NatsConnection } from '@nats-io/transport-node';
import { AppError } from '../errors.ts';
import { publishAuditEvent } from '../nats/audit-events.ts';
import { breakerReplySubject, breakerStatusSubject } from '../nats/subjects.ts';
import { isPool, poolDefinitions, poolNames, type Pool } from '../pools.ts';
import { breakerNames, isBreakerName, type AutoscalerStatus, type BreakerForce } from './keys.ts';
import type { BreakerReport } from './obey.ts';
import type { ControlStore } from './store.ts';

export type BreakerView = { name: string; force?: BreakerForce; processes: Array<{ instance: string; role: string; state: string; forced: boolean }> };
export type AutoscalerView = {
  enabled: boolean;
  /** Who set the mode and when; absent while the configured default (AUTOSCALER_ENABLED) applies. */
  setBy?: { by: string; at: string };
  caps: Partial<Record<Pool, number>>;
  /** Who capped each capped pool, and when. */
  capsSetBy: Partial<Record<Pool, { by: string; at: string }>>;
  /** The autoscaler's last tick; `alive` is false when it is older than three ticks. */
  status?: AutoscalerStatus & { ageMs: number; alive: boolean };
};

export function validPool(pool: string): Pool {
  if (!isPool(pool)) throw new AppError('INVALID_REQUEST', { detail: `Unknown pool "${pool}"; pools are ${poolNames.join(', ')}.` });
  return pool;
}

export function validSlots(pool: Pool, slots: number): number {
  const { min, max } = poolDefinitions[pool].slots;
  if (!Number.isInteger(slots) || slots < min || slots > max) {
    throw new AppError('INVALID_REQUEST', { detail: `Slots for the ${pool} pool must be a whole number from ${min} to ${max}, got ${slots}.` });
  }
  return slots;
}

export function validBreaker(name: string): string {
  if (!isBreakerName(name)) throw new AppError('BREAKER_NOT_FOUND', { detail: `"${name}"; breakers are ${breakerNames.join(', ')}.` });
  return name;
}

export function controlOperations(nc: NatsConnection, control: ControlStore, defaultEnabled: boolean) {
  const js = jetstream(nc);
  const audit = async (what: string, fields: Record<string, unknown>, by: string) => { await publishAuditEvent(js, `control.${what}`, by, fields); };
  const now = () => new Date().toISOString();

  return {
    async scale(poolName: string, slots: number, by: string) {
      const pool = validPool(poolName);
      validSlots(pool, slots);
      const previous = (await control.slots(pool))?.slots;
      await control.setSlots(pool, slots, { by, at: now(), reason: 'manual' });
      await audit('scale', { pool, from: previous ?? null, to: slots }, by);
      return { pool, slots, previous, autoscalerEnabled: (await control.autoscalerEnabled())?.enabled ?? defaultEnabled };
    },
    async setAutoscaler(enabled: boolean, by: string) {
      const previous = (await control.autoscalerEnabled())?.enabled ?? defaultEnabled;
      await control.setAutoscalerEnabled(enabled, { by, at: now() });
      await audit('autoscaler', { enabled, previous }, by);
      return { enabled, previous };
    },
    async capAutoscaler(poolName: string, max: number | undefined, by: string) {
      const pool = validPool(poolName);
      if (max !== undefined) validSlots(pool, max);
      await control.setCap(pool, max, { by, at: now() });
      await audit('autoscaler-cap', { pool, max: max ?? null }, by);
      return { pool, max };
    },
    autoscaler(): Promise<AutoscalerView> {
      return autoscalerView(control, defaultEnabled);
    },
    async forceBreaker(name: string, force: BreakerForce['force'], by: string) {
      validBreaker(name);
      await control.setBreakerForce(name, force, { by, at: now() });
      await audit('breaker', { circuit: name, force }, by);
      return { name, force };
    },
    /** Every known breaker with its forced state and what each process holding it reports. */
    breakers(waitMs = 500): Promise<BreakerView[]> {
      return breakerViews(nc, control, waitMs);
    },
  };
}

export type ControlOperations = ReturnType<typeof controlOperations>;

/** The autoscaler's mode (and who set it), its caps per pool, and whether it still ticks. */
async function autoscalerView(control: ControlStore, defaultEnabled: boolean): Promise<AutoscalerView> {
  const mode = await control.autoscalerEnabled();
  const status = await control.autoscalerStatus();
  const caps: AutoscalerView['caps'] = {};
  const capsSetBy: AutoscalerView['capsSetBy'] = {};
  for (const pool of poolNames) {
    const cap = await control.cap(pool);
    if (cap) [caps[pool], capsSetBy[pool]] = [cap.max, { by: cap.by, at: cap.at }];
  }
  const ageMs = status ? Date.now() - Date.parse(status.at) : 0;
  return {
    enabled: mode?.enabled ?? defaultEnabled,
    ...(mode ? { setBy: { by: mode.by, at: mode.at } } : {}),
    caps,
    capsSetBy,
    ...(status ? { status: { ...status, ageMs, alive: ageMs <= 3 * status.tickMs + 2_000 } } : {}),
  };
}

async function breakerViews(nc: NatsConnection, control: ControlStore, waitMs: number): Promise<BreakerView[]> {
  const reports = await gatherReports(nc, waitMs);
  const views: BreakerView[] = [];
  for (const name of breakerNames) {
    const force = await control.breakerForce(name);
    const processes = reports.flatMap((r) => r.breakers.filter((b) => b.name === name).map((b) => ({ instance: r.instance, role: r.role, state: b.state, forced: b.forced })));
    views.push({ name, ...(force?.force === 'open' ? { force } : {}), processes: processes.sort((a, b) => a.instance.localeCompare(b.instance)) });
  }
  return views;
}

/** Every process holding breakers answers within `waitMs`; none running is "no responders".
 * The answers go to a reply subject of their own, not this connection's inbox, because the roles
 * that answer may publish there and into no inbox (platform/nats/permissions.ts). */
async function gatherReports(nc: NatsConnection, waitMs: number): Promise<BreakerReport[]> {
  const reports: BreakerReport[] = [];
  const reply = breakerReplySubject(nuid.next());
  const sub = nc.subscribe(reply);
  const timer = setTimeout(() => sub.unsubscribe(), waitMs);
  try {
    nc.publish(breakerStatusSubject, '', { reply });
    for await (const m of sub) {
      // An empty message with status 503 is the server saying nobody listens.
      if (m.data.length === 0 && m.headers?.code === 503) break;
      try { reports.push(m.json<BreakerReport>()); } catch { /* not a report */ }
    }
  } finally {
    clearTimeout(timer);
    if (!sub.isClosed()) sub.unsubscribe();
  }
  return reports;
}
