// Watches keys of the `tps_control` bucket with one watcher per key family (`param.>`, `breaker.>`,
// `pool.>`, `canary.>`) shared by every key a process follows, instead of one per key. A role
// follows a dozen keys (each live parameter, its breakers' forces, its pool's slots, its canary):
// a watcher is an ordered consumer on the broker, with its own heartbeats and state, and a stack
// of one per key held 31 of them, each persisted by nats-server 2.9 and left behind by a role
// killed or cut off until its inactivity threshold ends it. The `autoscaler.` keys are watched one
// by one: the autoscaler rewrites `autoscaler.status` at every tick, which a shared watcher of that
// family would deliver to every process for nothing.
import type { KV, KvEntry } from '@nats-io/kv';

type Listener = (entry: KvEntry) => void;
/** What a family's watcher has seen (the last entry of each key) and who listens, by key. */
type Family = { latest: Map<string, KvEntry>; listeners: Map<string, Set<Listener>>; stop: () => void };

export type KeyWatch = (key: string, onEntry: Listener) => Promise<() => void>;

const unshared = new Set(['autoscaler']);

export function keyWatcher(kv: KV): KeyWatch {
  const families = new Map<string, Promise<Family>>();

  function familyFor(name: string): Promise<Family> {
    let family = families.get(name);
    if (!family) {
      family = openFamily(kv, `${name}.>`);
      families.set(name, family);
      family.catch(() => families.delete(name));
    }
    return family;
  }

  return async (key, onEntry) => {
    const name = key.split('.')[0] ?? key;
    if (unshared.has(name) || !key.includes('.')) return watchOne(kv, key, onEntry);
    const opened = familyFor(name);
    const family = await opened;
    const listeners = family.listeners.get(key) ?? new Set<Listener>();
    family.listeners.set(key, listeners);
    // Registered and given what the watcher has seen of the key in one step: an entry that comes
    // later reaches the listener, one that came before is the latest here (absent: nothing yet).
    listeners.add(onEntry);
    const seen = family.latest.get(key);
    if (seen) onEntry(seen);
    return () => {
      listeners.delete(onEntry);
      if (listeners.size === 0) family.listeners.delete(key);
      if (family.listeners.size === 0 && families.get(name) === opened) {
        families.delete(name);
        family.stop();
      }
    };
  };
}

async function openFamily(kv: KV, filter: string): Promise<Family> {
  const iter = await kv.watch({ key: filter });
  const family: Family = { latest: new Map(), listeners: new Map(), stop: () => iter.stop() };
  void (async () => {
    for await (const entry of iter) {
      family.latest.set(entry.key, entry);
      for (const listener of family.listeners.get(entry.key) ?? []) listener(entry);
    }
  })();
  return family;
}

async function watchOne(kv: KV, key: string, onEntry: Listener): Promise<() => void> {
  const iter = await kv.watch({ key });
  void (async () => { for await (const entry of iter) onEntry(entry); })();
  return () => iter.stop();
}
