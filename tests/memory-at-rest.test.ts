// A role gives back the young generation its start grew once it is at rest, and not while it
// works: first against this process's own V8 with the event loop's utilization given, then a real
// `tps run service-c` left idle, read from its own log line.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';
import { startRoleProcess } from '#devenv/role-process.ts';
import { memoryAtRestDefaults, residentYoungBytes, startMemoryAtRest } from '#platform/memory-at-rest.ts';

const mb = 1024 * 1024;

/** Allocates as a burst of work does: many short-lived objects, some living a while, so V8
 * grows its young generation to keep up. */
function burst(): void {
  let kept: unknown[] = [];
  for (let i = 0; i < 400_000; i++) {
    kept.push({ id: i, name: `job-${i}`, steps: [i, i + 1] });
    if (kept.length > 50_000) kept = [];
  }
}

describe('memory at rest, in this process', () => {
  it('collects only when the last window was at rest and the young generation has grown', () => {
    let utilization = 0.5;
    const atRest = startMemoryAtRest({ utilization: () => utilization, windowMs: 3_600_000, gapMs: 0 });
    try {
      burst();
      expect(residentYoungBytes()).toBeGreaterThan(memoryAtRestDefaults.youngAboveBytes);
      expect(atRest.check(), 'busy: no collection').toBeUndefined();
      utilization = 0.001;
      const reduced = atRest.check();
      expect(reduced, 'at rest: one collection').toBeDefined();
      expect(reduced!.youngBytesBefore).toBeGreaterThan(memoryAtRestDefaults.youngAboveBytes);
      expect(reduced!.youngBytesAfter).toBeLessThan(mb);
      expect(atRest.check(), 'nothing grown since: no collection').toBeUndefined();
    } finally {
      atRest.stop();
    }
  });

  it('collects at most once a gap, however often the work comes back', () => {
    const atRest = startMemoryAtRest({ utilization: () => 0, windowMs: 3_600_000, gapMs: 3_600_000 });
    try {
      burst();
      expect(atRest.check()).toBeDefined();
      burst();
      expect(residentYoungBytes()).toBeGreaterThan(memoryAtRestDefaults.youngAboveBytes);
      expect(atRest.check()).toBeUndefined();
    } finally {
      atRest.stop();
    }
  });
});

describe('memory at rest, in a role', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await provisioned(server.url);
  }, 30_000);
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it('`tps run service-c` left idle gives back what its start grew', async () => {
    const role = startRoleProcess('service-c', { ...process.env, NATS_URL: server.url, HTTP_PORT: '0', LOG_LEVEL: 'debug', OTEL_SDK_DISABLED: 'true' });
    try {
      // The first window after the role started is at rest already: nothing comes to it.
      const reduced = await waitFor(() => role.lines.find((l) => l.msg === 'at rest: memory given back'), 4 * memoryAtRestDefaults.windowMs, () => `no 'memory given back' line (stderr: ${role.stderr()})`);
      expect(reduced.youngBytesBefore as number).toBeGreaterThan(memoryAtRestDefaults.youngAboveBytes);
      expect(reduced.youngBytesAfter as number).toBeLessThan(mb);
      expect((reduced.rssBytesBefore as number) - (reduced.rssBytesAfter as number)).toBeGreaterThan(2 * mb);
    } finally {
      role.stop();
    }
    expect(await role.exited).toBe(0);
    // Taking V8's gc function (a flag set for one moment) prints no warning.
    expect(role.stderr()).toBe('');
  }, 40_000);
});
