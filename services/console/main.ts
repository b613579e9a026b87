// Starts the console role: the Andon board in a browser on 127.0.0.1:8090 (ARCHITECTURE section
// 14). It reads what the other roles publish (their /metrics, the chaos bucket) and keeps nothing
// that matters: its history is a bounded ring in memory, lost on restart, and the page says so.
// Where the roles are: TPS_TARGETS (compose), else this machine's `tps up` state, read at every
// sample so restarts and replicas show up.
import type { ActiveFault } from '#platform/chaos/catalogue.ts';
import { isActive, openChaosStore } from '#platform/chaos/store.ts';
import type { RoleContext, RoleParts } from '#platform/role-runtime.ts';
import { nativeTargets, parseTargets, type Target } from '#operator/status/collect.ts';
import { adminClient } from './admin-client.ts';
import { buildConsoleApp } from './app.ts';
import { dlqReader } from './dlq-page.ts';
import { startSampler } from './sampler.ts';

/** Scrapes every 2 s while a page is open; the ring keeps 10 minutes of them. */
const intervalMs = 2_000;
const historyPoints = 300;

export async function startConsole(ctx: RoleContext): Promise<RoleParts> {
  const { config, logger } = ctx;
  const targets = (): Target[] => (config.operator.targets ? parseTargets(config.operator.targets) : nativeTargets(config.stateDir));
  if (config.operator.targets) parseTargets(config.operator.targets); // a bad TPS_TARGETS stops the start, with its reason
  const sampler = ctx.own('stop sampling', startSampler({ targets, intervalMs, historyPoints, logger }), (s) => s.stop());
  let faults: ActiveFault[] = [];
  const stopWatching = await (await openChaosStore(ctx.nc)).watch((active) => { faults = active; });
  ctx.own('stop watching chaos', stopWatching, (stop) => stop());
  const app = buildConsoleApp({
    ctx, sampler, intervalMs,
    faults: () => faults.filter((f) => isActive(f)),
    admin: adminClient(config.operator.adminUrl),
    dlq: await dlqReader(ctx.nc),
    source: `Live from every role's /metrics, every ${intervalMs / 1000} s while a page is open; the lines show up to ${(historyPoints * intervalMs) / 60_000} minutes kept in the console's memory since the first page opened (Prometheus keeps the long history).`,
  });
  return { app };
}
