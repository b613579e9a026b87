// What the lab tests share: a Prometheus URL that refuses at once (a stack without Prometheus,
// whatever this machine runs on 9090), an autoscaler that reacts in seconds (a lab's --speed does
// not shorten the system's own timers), and grading until a lab passes.
import { tps } from './cli.ts';
import { waitFor } from './nats-server.ts';

export const noPrometheus = 'http://127.0.0.1:1';

export const quickAutoscaler = {
  AUTOSCALER_TICK_MS: '1000', AUTOSCALER_UP_AFTER_MS: '1000', AUTOSCALER_DOWN_AFTER_MS: '4000', AUTOSCALER_COOLDOWN_MS: '2000',
} as const;

/** Runs a `tps ... check` command until it exits 0 (the solve's jobs finish asynchronously); its output. */
export function untilPassed(check: readonly string[], env: Record<string, string>, timeoutMs = 30_000): Promise<string> {
  return waitFor(async () => {
    const r = await tps([...check], env);
    return r.code === 0 ? r.stdout : undefined;
    // Each try is a `tps` process (half a second of CPU on a loaded CI): twice a second at most.
  }, timeoutMs, () => `tps ${check.join(' ')} to pass`, 500);
}
