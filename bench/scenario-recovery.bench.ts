// Measures what a shipped chaos scenario does under load: runs it through the same runner as
// `tps chaos run` (steady check before, timeline, steady check after) on a whole pipeline with a
// steady open-model load from the scenario's own load hint, and prints the recovery time.
//   node bench/scenario-recovery.bench.ts --scenario breaker-open [--speed 2] [--rate 30]
import { ScenarioError } from '#chaos/runner/load.ts';
import { realClock } from '#chaos/runner/clock.ts';
import { runTimeline } from '#chaos/runner/execute.ts';
import { resolveScenario } from '#chaos/runner/load.ts';
import { planTimeline } from '#chaos/runner/plan.ts';
import { steadyCheck, waitForSteady } from '#chaos/runner/steady.ts';
import { openChaosControl } from '#chaos/control-plane.ts';
import { loadConfig } from '#platform/config.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '#platform/logger.ts';
import { nativeTargets } from '#operator/status/collect.ts';
import { startNatsServer } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { startStack } from '#devenv/stack.ts';
import { benchArgs } from './lib/args.ts';

const args = benchArgs(import.meta.url, { scenario: { type: 'string', default: 'breaker-open' }, speed: { type: 'string' }, rate: { type: 'string' } });
function scenarioOrFail(name: string) {
  try {
    return resolveScenario(name);
  } catch (err) {
    if (err instanceof ScenarioError) return args.fail(err.message);
    throw err;
  }
}
const plan = planTimeline(scenarioOrFail(args.values.scenario ?? 'breaker-open'), args.whole('speed', 2));
const rate = args.whole('rate', plan.scenario.load?.rate ?? 20);
const mix = (plan.scenario.load?.mix ?? 'fast.echo=100').split(',').flatMap((pair) => {
  const [type, weight] = pair.split('=');
  return Array.from({ length: Number(weight) }, () => type as string);
});

const nats = await startNatsServer();
const stack = await startStack(nats.url, { LOG_LEVEL: 'warn' });
const statuses = new Map<number, number>();
let sent = 0;
const load = setInterval(() => {
  const type = mix[sent++ % mix.length];
  void postJob(stack.url('ingress'), { type }).then((r) => statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1), () => statuses.set(0, (statuses.get(0) ?? 0) + 1));
}, 1000 / rate);
try {
  const check = steadyCheck(nativeTargets(stack.stateDir), 2_000);
  const warm = await waitForSteady(check, { clock: realClock, since: Date.now(), deadlineMs: 60_000 });
  console.log(`${plan.scenario.name} at --speed ${plan.speed}, ${rate} jobs/s (${plan.scenario.load?.mix ?? 'fast.echo'}); steady before: ${warm.steady}`);
  const control = chaosControl(stack.nc);
  const result = await runTimeline(plan, { control, clock: realClock, signal: new AbortController().signal, say: (l) => console.log(l.slice(0, 140)), by: 'bench' });
  const recovery = await waitForSteady(check, { clock: realClock, since: result.lastClearAt ?? Date.now(), deadlineMs: 180_000 });
  console.log(recovery.steady ? `steady again ${Math.round(recovery.afterMs / 1000)} s after the last fault cleared` : `not steady after ${Math.round(recovery.afterMs / 1000)} s: ${recovery.problems.join('; ')}`);
  console.log(`HTTP answers during the run: ${[...statuses].map(([s, n]) => `${s || 'error'}: ${n}`).join(', ')}`);
} finally {
  clearInterval(load);
  await stack.stop();
  await nats.dispose();
}

/** The operators' control plane over the given connection (process faults; no supervisor here). */
function chaosControl(nc: NatsConnection) {
  const config = loadConfig();
  return openChaosControl({ config, logger: createLogger('test', { ...config, log: { level: 'warn' } }), nc });
}
