// Simulated work from a job type's profile: wall-clock latency (I/O waiting) plus CPU time.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkProfile } from '#platform/job-catalogue.ts';

export async function doWork(profile: WorkProfile | undefined, scale: number, signal?: AbortSignal): Promise<void> {
  if (!profile || scale === 0) return;
  const cpuMs = profile.cpuMs * scale;
  if (cpuMs > 0) {
    const until = performance.now() + cpuMs;
    while (performance.now() < until) { /* the CPU part of the work */ }
  }
  const waitMs = Math.max(0, (profile.latencyMs + (Math.random() * 2 - 1) * profile.jitterMs) * scale - cpuMs);
  if (waitMs > 0) await sleep(waitMs, undefined, signal ? { signal } : undefined);
}
