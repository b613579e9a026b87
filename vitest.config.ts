import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { machineLockEnv, machineLockMarker } from './devenv/machine-turns.ts';

// One turn-taking folder per run, inherited by the workers (devenv/machine-lock.ts).
process.env[machineLockEnv] ??= path.join(os.tmpdir(), `tps-test-machine-${process.pid}`);

/** Files that load the whole machine take turns; this order spreads them out (three others between
 * two of them, the longest first), so the worker that picks the next one seldom waits for its turn. */
class MachineTurnSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const loads = (spec: TestSpecification) => readFileSync(spec.moduleId, 'utf8').includes(machineLockMarker);
    const heavy = sorted.filter(loads);
    const others = sorted.filter((spec) => !loads(spec));
    const order: TestSpecification[] = [];
    for (const spec of heavy) order.push(spec, ...others.splice(0, 3));
    return [...order, ...others];
  }
}

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Each file starts its own nats-server and processes; two at a time suits a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
    sequence: { sequencer: MachineTurnSequencer },
  },
});
