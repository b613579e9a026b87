// The exam day's proctor (operator/exam/proctor.ts) on a day of its own, fast: it brings a failure
// at its time, sets it again once cleared, and ends when the run is marked stopped (what `tps exam
// 3 stop` does in compose, where nobody signals its container), clearing its faults and announcing
// no end of day. Its chaos store and load are in-memory stand-ins of our own interfaces; the real
// ones run in exam-3.test.ts.
import { expect, it } from 'vitest';
import type { ActiveFault } from '#platform/chaos/catalogue.ts';
import { runProctor } from '#operator/exam/proctor.ts';
import { timelineSchema } from '#operator/exam/timeline.ts';
import { waitFor } from '#devenv/nats-server.ts';

it('brings the failure, keeps it in force, and ends as soon as the run is marked stopped', async () => {
  const timeline = timelineSchema.parse({
    load: { rate: 1 }, length: '1h', detectWithin: '15m',
    failures: [{ id: 'downstream', at: '0s', label: 'slow', target: 'service-a', fault: 'latency', params: { ms: 800 } }],
  });
  const faults = new Map<string, ActiveFault>();
  const announced: string[] = [];
  const said: string[] = [];
  let stopped = false;
  const loadEnded = { counts: { accepted: 0, arrivals: 0 } };
  const day = runProctor({
    timeline,
    run: { id: 'exam-test', startedAt: new Date().toISOString(), speed: 1, choices: {} },
    chaos: {
      set: async (r) => { faults.set(r.target, { target: r.target, fault: r.fault, params: r.params ?? {}, setAt: new Date().toISOString(), expiresAt: new Date(Date.now() + (r.durationMs ?? 0)).toISOString(), by: 'proctor' } as ActiveFault); },
      clear: async (target) => { faults.delete(target); },
      list: async () => [...faults.values()],
    },
    announce: async (subject) => { announced.push(subject); },
    load: ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(loadEnded as never), { once: true })),
    say: (line) => said.push(line),
    signal: new AbortController().signal,
    stillOn: () => !stopped,
  });
  await waitFor(() => faults.has('service-a') || undefined, 5_000, () => 'the failure to begin');
  expect(announced).toEqual(['failure']);
  faults.delete('service-a'); // the candidate clears it by hand: it comes back
  await waitFor(() => faults.has('service-a') || undefined, 5_000, () => 'the failure to be set again');
  stopped = true;
  await day;
  expect(faults.size).toBe(0);
  expect(announced).toEqual(['failure']);
  expect(said.at(-1)).toBe('proctor stopped');
});
