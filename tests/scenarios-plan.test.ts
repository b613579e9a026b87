// Scenario files and their timelines, without a running system: every shipped file validates,
// broken files say where and what, and --speed compresses offsets and durations within the limits.
import { expect, it } from 'vitest';
import { eventLines } from '#chaos/runner/format.ts';
import { loadScenarioFile, parseScenario, resolveScenario, shippedScenarioFiles } from '#chaos/runner/load.ts';
import { planTimeline, type PlannedEvent } from '#chaos/runner/plan.ts';
import { judgeSteady } from '#chaos/runner/steady.ts';
import type { Snapshot } from '#operator/status/snapshot.ts';

const scenario = (steps: string) => parseScenario(`name: t\ndescription: d\nreference: r\nsteps:\n${steps}`, 't.yaml');
const when = (events: PlannedEvent[]) => events.map((e) => `${e.atMs} ${e.kind}${e.kind === 'set' ? ` ${e.request.target} ${e.request.durationMs}` : e.kind === 'clear' ? ` ${e.target} ${e.reason}` : ''}`);

it('ships the handbook scenarios, the lab 3.1 cascade and the level-3 exam, all valid', () => {
  const names = shippedScenarioFiles().map((f) => {
    const s = loadScenarioFile(f);
    expect(f.endsWith(`/${s.name}.yaml`)).toBe(true);
    return s.name;
  });
  expect(names).toEqual(['breaker-open', 'cascade-3-1', 'error-spike', 'latency-spike', 'level3-exam', 'queue-full', 'workers-scaling']);
  const exam = planTimeline(resolveScenario('level3-exam'), 1);
  expect(exam.events.filter((e) => e.kind === 'set').map((e) => [e.atMs / 3_600_000, e.kind === 'set' && `${e.request.target} ${e.request.fault}`]))
    .toEqual([[1, 'service-a latency'], [2, 'worker-fast crash'], [3, 'service-c latency'], [4, 'worker-slow memory_leak'], [5, 'ingress bandwidth']]);
  expect(exam.totalMs).toBe(6 * 3_600_000);
  const cascade = planTimeline(resolveScenario('cascade-3-1'), 1).events.find((e) => e.kind === 'set');
  expect(cascade).toMatchObject({ request: { target: 'service-c', fault: 'latency', params: { ms: 5000 } } });
});

it('names the file, the line and the field of every mistake', () => {
  expect(() => scenario('  - at: 0s\n    observe: x\n  - at: 10\n    observe: y\n')).toThrow(/^t\.yaml:7: steps\[1\]\.at: "10" is not a duration; write it with a unit/);
  expect(() => parseScenario('name: t\ndescription: d\nsteps:\n  - at: 0s\n    observe: x\n', 'u.yaml')).toThrow(/^u\.yaml:1: reference: /);
  expect(() => scenario('  - at: 0s\n    observe: x\n    expect: y\n')).toThrow(/t\.yaml:5: steps\[0\]: a step does one thing; this one has observe and expect/);
  expect(() => scenario('  - at: 1m\n    observe: x\n  - at: 30s\n    observe: y\n')).toThrow(/t\.yaml:7: steps\[1\]\.at: steps must be in time order/);
  expect(() => scenario('  - at: 0s\n    set: { target: service-c, fault: latency, params: { ms: 500000 }, duration: 1m }\n')).toThrow(/t\.yaml:6: steps\[0\]\.set: latency: ms must be at most 120000 \(got 500000\)/);
  expect(() => scenario('  - at: 0s\n    set: { target: service-z, fault: latency, params: { ms: 5 }, duration: 1m }\n')).toThrow(/unknown target "service-z"; targets are: ingress/);
  expect(() => scenario('  - at: 0s\n    set: { target: service-c, fault: latency, params: { ms: 5 } }\n')).toThrow(/t\.yaml:6: steps\[0\]\.set\.duration: /);
  expect(() => scenario('  - at: 0s\n    sett: {}\n')).toThrow(/steps\[0\]: Unrecognized key: "sett"/);
  expect(() => parseScenario('name: [unclosed\n', 'y.yaml')).toThrow(/^y\.yaml:\d+: not valid YAML/);
  expect(() => resolveScenario('no-such-scenario')).toThrow(/no scenario named "no-such-scenario"; shipped scenarios: breaker-open, /);
});

it('compresses offsets and fault durations with --speed, never below 1 s', () => {
  const s = scenario([
    '  - at: 0s\n    observe: start',
    '  - at: 1h\n    set: { target: service-c, fault: latency, params: { ms: 5000 }, duration: 45m }',
    '  - at: 2h\n    set: { target: worker-fast, fault: crash, duration: 30s }',
    '  - at: 3h\n    expect: done',
  ].join('\n'));
  expect(when(planTimeline(s, 1).events)).toEqual(['0 observe', '3600000 set service-c 2700000', '6300000 clear service-c ends', '7200000 set worker-fast 30000', '7230000 clear worker-fast ends', '10800000 expect']);
  const fast = planTimeline(s, 60);
  expect(when(fast.events)).toEqual(['0 observe', '60000 set service-c 45000', '105000 clear service-c ends', '120000 set worker-fast 1000', '121000 clear worker-fast ends', '180000 expect']);
  expect(fast.totalMs).toBe(180_000);
  expect(eventLines(fast, fast.events[1] as PlannedEvent)).toEqual(['[01:00 | 1:00:00] set service-c latency ms=5000 (until 01:45)']);
  expect(eventLines(planTimeline(s, 1), planTimeline(s, 1).events[1] as PlannedEvent)).toEqual(['[1:00:00] set service-c latency ms=5000 (until 1:45:00)']);
});

it('applies the catalogue limits to the compressed durations', () => {
  const text = 'name: t\ndescription: d\nreference: r\nsteps:\n  - at: 0s\n    set: { target: service-a, fault: error_rate, params: { ratio: 1 }, duration: 3h }\n';
  expect(() => parseScenario(text, 'long.yaml')).toThrow(/long\.yaml:6: steps\[0\]\.set: duration must be between 1 s and 2 h \(got 10800 s\)/);
  const s = { ...parseScenario(text.replace('3h', '2h'), 'ok.yaml'), steps: [{ at: 0, set: { target: 'service-a', fault: 'error_rate', params: { ratio: 1 }, duration: 3 * 3_600_000 } }] };
  expect(() => planTimeline(s, 1)).toThrow(/duration must be between 1 s and 2 h/);
  expect(planTimeline(s, 2).events[0]).toMatchObject({ request: { durationMs: 5_400_000 } });
});

it('drops a fault\'s end when a step clears it or sets it again first', () => {
  const s = scenario([
    '  - at: 0s\n    set: { target: service-b, fault: latency, params: { ms: 100 }, duration: 10m }',
    '  - at: 1m\n    clear: { target: service-b }',
    '  - at: 2m\n    set: { target: service-b, fault: latency, params: { ms: 100 }, duration: 10m }',
    '  - at: 3m\n    set: { target: service-b, fault: latency, params: { ms: 200 }, duration: 1m }',
  ].join('\n'));
  expect(when(planTimeline(s, 1).events)).toEqual(['0 set service-b 600000', '60000 clear service-b step', '120000 set service-b 600000', '180000 set service-b 60000', '240000 clear service-b ends']);
});

it('calls the system steady only when every role answers and nothing is HIGH or CRITICAL', () => {
  const base: Snapshot = {
    at: '', seconds: 1, pools: [], circuits: [], rejected: { perSec: 0, byReason: {}, byPool: {} }, faults: [], autoscaler: { present: false, enabled: false }, parameters: [], canaries: [],
    roles: [{ role: 'ingress', up: true, cpuPercent: 1, memoryMb: 50 }, { role: 'service-c', up: true, cpuPercent: 1, memoryMb: 50 }],
  };
  expect(judgeSteady(base)).toEqual({ steady: true, problems: [] });
  expect(judgeSteady({ ...base, faults: [{ target: 'service-c', fault: 'latency' }] }).steady).toBe(true);
  expect(judgeSteady({ ...base, circuits: [{ name: 'service-b->service-c', state: 'open', opensInInterval: 1 }] }))
    .toEqual({ steady: false, problems: ['HIGH service-b->service-c: circuit service-b->service-c is open'] });
  expect(judgeSteady({ ...base, roles: [{ role: 'ingress', up: false, cpuPercent: 0, memoryMb: 0, error: 'ECONNREFUSED' }] }))
    .toEqual({ steady: false, problems: ['ingress does not answer (ECONNREFUSED)'] });
  expect(judgeSteady({ ...base, roles: [] }).problems).toEqual(['no role reported metrics']);
});
