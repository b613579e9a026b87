// The test files that load the whole machine (a lab or exam graded on throughput and latency
// under sustained load) take turns: on 2 cores, two of them at once starve each other past their
// graders' deadlines. A file calls `takeTurnOnTheMachine()` at the top; its beforeAll waits until
// no other such file of this vitest run holds the machine, its afterAll lets go. The others (most
// files) run beside it as before. vitest.config.ts's sequencer reads the same call to spread these
// files between the others, so a worker seldom waits for its turn. While the turn lasts, what the
// file starts gets the CPU first (turn-priority.ts): the files beside it slow down, this one keeps
// the latency its graders measure.
import { afterAll, beforeAll } from 'vitest';
import { holdMachine, lockDir, releaseMachine, turnTimeoutMs } from './machine-turns.ts';
import { favourWhatThisProcessStarts, type Favour } from './turn-priority.ts';

export function takeTurnOnTheMachine(): void {
  const dir = lockDir();
  let favour: Favour | undefined;
  beforeAll(async () => {
    await holdMachine(dir);
    favour = favourWhatThisProcessStarts();
  }, turnTimeoutMs + 10_000);
  afterAll(() => {
    favour?.stop();
    releaseMachine(dir);
  });
}
