// The test files that load the whole machine (a lab or exam graded on throughput and latency
// under sustained load) take turns: on 2 cores, two of them at once starve each other past their
// graders' deadlines. A file calls `takeTurnOnTheMachine()` at the top; its beforeAll waits until
// no other such file of this vitest run holds the machine, its afterAll lets go. The others (most
// files) run beside it as before. vitest.config.ts's sequencer reads the same call to spread these
// files between the others, so a worker seldom waits for its turn.
import { afterAll, beforeAll } from 'vitest';
import { holdMachine, lockDir, releaseMachine, turnTimeoutMs } from './machine-turns.ts';

export function takeTurnOnTheMachine(): void {
  const dir = lockDir();
  beforeAll(() => holdMachine(dir), turnTimeoutMs + 10_000);
  afterAll(() => releaseMachine(dir));
}
