// The chaos control plane: active faults in the `tps_chaos` KV bucket (key `<target>.<fault>`),
// so every replica of a target sees them and a restarted process picks them up. Every change is
// an audit event on `tps.events.chaos` (kept by the EVENTS stream).
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { publishAuditEvent } from '../nats/audit-events.ts';
import { buckets } from '../nats/subjects.ts';
import { activeFaultFrom, activeFaultSchema, faultKey, validateFault, type ActiveFault } from './catalogue.ts';

export type ChaosStore = {
  set(input: { target: string; fault: string; params?: Record<string, unknown>; durationMs?: number }, by: string): Promise<ActiveFault>;
  /** Clears one fault, or every fault of a target; returns what was cleared. */
  clear(target: string, fault?: string, by?: string): Promise<ActiveFault[]>;
  /** Active faults; with includeExpired, also entries past their expiry nobody removed yet. */
  list(opts?: { includeExpired?: boolean }): Promise<ActiveFault[]>;
  reset(by: string): Promise<ActiveFault[]>;
  /** Stores a fault validated and timed elsewhere (the supervisor's system faults), as is. */
  record(fault: ActiveFault): Promise<void>;
  /** Removes one stored fault (audited as cleared, or expired when past its expiry). */
  remove(fault: ActiveFault, by: string): Promise<void>;
  /** Calls back with the whole set of active faults now and after every change. */
  watch(onChange: (faults: ActiveFault[]) => void): Promise<() => void>;
};

export const isActive = (f: ActiveFault, now = Date.now()) => Date.parse(f.expiresAt) > now;

export async function openChaosStore(nc: NatsConnection): Promise<ChaosStore> {
  const kv: KV = await new Kvm(nc).open(buckets.chaos);
  // open() is lazy; asking for the status fails here, not on first use, when the bucket is missing.
  await kv.status();
  const js = jetstream(nc);
  const audit = async (action: string, fault: Partial<ActiveFault>, by: string) => { await publishAuditEvent(js, `chaos.${action}`, by, fault); };

  const store: ChaosStore = {
    async set(input, by) {
      const fault = activeFaultFrom(validateFault(input), by);
      await store.record(fault);
      return fault;
    },
    async clear(target, fault, by = 'unknown') {
      const cleared = (await readFaults(kv)).filter((f) => f.target === target && (!fault || f.fault === fault));
      for (const f of cleared) await store.remove(f, by);
      return cleared;
    },
    async list(opts = {}) {
      const all = await readFaults(kv);
      return opts.includeExpired ? all : all.filter((f) => isActive(f));
    },
    async record(fault) {
      await kv.put(faultKey(fault.target, fault.fault), JSON.stringify(fault));
      await audit('set', fault, fault.by);
    },
    async remove(fault, by) {
      await kv.delete(faultKey(fault.target, fault.fault));
      await audit(isActive(fault) ? 'clear' : 'expired', fault, by);
    },
    async reset(by) {
      const all = await readFaults(kv);
      for (const f of all) await kv.delete(faultKey(f.target, f.fault));
      await audit('reset', { params: { cleared: all.length } }, by);
      return all.filter((f) => isActive(f));
    },
    watch: (onChange) => watchFaults(kv, onChange),
  };
  return store;
}

/** Every stored fault, expired or not, in key order; entries that do not parse are left out. */
async function readFaults(kv: KV): Promise<ActiveFault[]> {
  const out: ActiveFault[] = [];
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== 'PUT') continue;
    const fault = parseFault(entry.string());
    if (fault) out.push(fault);
  }
  return out.sort((a, b) => faultKey(a.target, a.fault).localeCompare(faultKey(b.target, b.fault)));
}

/** Follows the bucket and hands `onChange` the whole set of stored faults after every change. */
async function watchFaults(kv: KV, onChange: (faults: ActiveFault[]) => void): Promise<() => void> {
  const current = new Map<string, ActiveFault>();
  const iter = await kv.watch({ key: '>' });
  let initial = true;
  void (async () => {
    for await (const e of iter) {
      if (e.operation === 'PUT') {
        const fault = parseFault(e.string());
        if (fault) current.set(e.key, fault);
      } else {
        current.delete(e.key);
      }
      // The first callback comes once the bucket's existing entries have been read.
      if (!initial || e.delta === 0) {
        initial = false;
        onChange([...current.values()]);
      }
    }
  })();
  if ((await kv.status()).values === 0) { initial = false; onChange([]); }
  return () => iter.stop();
}

function parseFault(text: string): ActiveFault | undefined {
  const parsed = activeFaultSchema.safeParse(safeJson(text));
  return parsed.success ? parsed.data : undefined;
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}
