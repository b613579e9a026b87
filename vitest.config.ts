import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { machineLockEnv, machineLockMarker } from './devenv/machine-turns.ts';

// One turn-taking folder per run, inherited by the workers (devenv/machine-lock.ts).
process.env[machineLockEnv] ??= path.join(os.tmpdir(), `tps-test-machine-${process.pid}`);
// Compiled code of our modules kept between processes (bin/tps does the same): every role and
// every `tps` command a test starts loads in about half the CPU time. Keyed by content, so an
// edited file is compiled again.
process.env.NODE_COMPILE_CACHE ??= path.join(os.tmpdir(), 'tps-test-node-compile-cache');

// Three files at a time on 2 cores: most of a file's time is waiting on the system it started (a
// lab's timeline, a breaker's reset, Prometheus' windows), and two left a third of the CPU idle
// (721 s at 120 % CPU with two; 567 s at 156 % with three, the same files passing). The files that
// load the whole machine still take turns (machine-lock.ts). TPS_TEST_WORKERS overrides it.
const workers = Number(process.env.TPS_TEST_WORKERS ?? 3);
if (!Number.isInteger(workers) || workers < 1 || workers > 16) throw new Error(`TPS_TEST_WORKERS=${process.env.TPS_TEST_WORKERS}: expected a whole number of test files at a time, 1 to 16`);
/** Each file's seconds in a CI run (devenv/test-seconds.json; a file not in it counts 10 s). */
const expectedSeconds: Record<string, number> = JSON.parse(readFileSync(new URL('./devenv/test-seconds.json', import.meta.url), 'utf8'));

/**
 * Longest first, so the run ends with short files on every worker rather than one long file on
 * one (a clean clone has no vitest cache to go by: test-seconds.json stands in). A file that loads
 * the whole machine (it calls takeTurnOnTheMachine()) is held back, in a simulation of the
 * workers, until no other such file would still run: then its turn never has to wait.
 */
class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (spec: TestSpecification) => expectedSeconds[path.basename(spec.moduleId, '.test.ts')] ?? 10;
    const loads = new Set(files.filter((spec) => readFileSync(spec.moduleId, 'utf8').includes(machineLockMarker)));
    const left = [...files].sort((a, b) => seconds(b) - seconds(a));
    const free = Array.from({ length: workers }, () => 0);
    let loadedUntil = 0;
    const order: TestSpecification[] = [];
    while (left.length > 0) {
      const at = Math.min(...free);
      const next = left.findIndex((spec) => !loads.has(spec) || at >= loadedUntil);
      const [spec] = left.splice(next === -1 ? 0 : next, 1) as [TestSpecification];
      const end = Math.max(at, loads.has(spec) ? loadedUntil : 0) + seconds(spec);
      if (loads.has(spec)) loadedUntil = end;
      free[free.indexOf(at)] = end;
      order.push(spec);
    }
    return order;
  }
}

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Each file starts its own nats-server and processes, in a process of its own.
    pool: 'forks',
    maxWorkers: workers,
    // A limit for a test that hangs, not a speed goal: a test of many `tps` commands took 19 s in
    // one run and ran past 30 s in another, on the same slow afternoon, beside a favoured file.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // expect.poll waits on a real system: an action's answer on a page, a metric after a scrape.
    // Vitest's 1 s default is short for that on a loaded 2-core machine (three files, a Docker
    // stack); a poll that says more keeps its own.
    expect: { poll: { timeout: 10_000 } },
    reporters: ['default'],
    // TPS_TEST_CPU_REPORT=<file>: each file's CPU, what it started included (devenv/file-cpu.ts).
    setupFiles: process.env.TPS_TEST_CPU_REPORT ? ['devenv/file-cpu.ts'] : [],
    sequence: { sequencer: LongestFirstSequencer },
  },
});
