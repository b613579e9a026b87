// Copies the supervisor's system faults into the `tps_chaos` bucket, so `tps chaos list`, the audit
// events and the `tps_chaos_fault_active` gauge show them like process faults. NATS may be the very
// thing a fault stopped: every attempt is bounded in time, and a failed one is retried until the
// bucket matches again (a copy left behind is harmless meanwhile: it carries its own expiry).
import { faultCatalogue, faultKey, type ActiveFault } from '#platform/chaos/catalogue.ts';
import type { ChaosStore } from '#platform/chaos/store.ts';

export type FaultMirror = {
  /** Makes the bucket's system faults equal to `faults`; resolves true once they are, false if NATS did not answer in time. */
  sync(faults: readonly ActiveFault[], by: string): Promise<boolean>;
  close(): void;
};

const attemptMs = 3_000;
const retryMs = 2_000;

export function mirrorFaults(openStore: () => Promise<ChaosStore>, warn: (message: string) => void): FaultMirror {
  let desired: readonly ActiveFault[] = [];
  let removedBy = 'supervisor';
  let store: Promise<ChaosStore> | undefined;
  let chain: Promise<boolean> = Promise.resolve(true);
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  let failing = false;

  async function attempt(): Promise<boolean> {
    try {
      store ??= openStore();
      const s = await bounded(store);
      const stored = (await bounded(s.list({ includeExpired: true }))).filter((f) => faultCatalogue[f.fault].kind === 'system');
      const same = (a: ActiveFault, b: ActiveFault) => faultKey(a.target, a.fault) === faultKey(b.target, b.fault) && a.setAt === b.setAt;
      for (const f of stored) if (!desired.some((d) => same(d, f))) await bounded(s.remove(f, removedBy));
      for (const f of desired) if (!stored.some((d) => same(d, f))) await bounded(s.record(f));
      if (failing) warn('chaos: system faults copied to the tps_chaos bucket again');
      failing = false;
      return true;
    } catch (err) {
      if (!failing) warn(`chaos: cannot copy system faults to the tps_chaos bucket yet (${(err as Error).message}); retrying every ${retryMs / 1000} s`);
      failing = true;
      // A store that never opened is opened again next time.
      const opened = store;
      if (opened && !(await opened.then(() => true, () => false))) store = undefined;
      if (!closed) retry ??= setTimeout(() => { retry = undefined; void enqueue(); }, retryMs);
      return false;
    }
  }

  const enqueue = (): Promise<boolean> => (chain = chain.then(attempt));

  return {
    sync(faults, by) {
      desired = [...faults];
      removedBy = by;
      return enqueue();
    },
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
    },
  };
}

function bounded<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`NATS did not answer within ${attemptMs / 1000} s`)), attemptMs); });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
