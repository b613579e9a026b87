// Waits until every test file that loads the whole machine (takeTurnOnTheMachine(), machine-lock.ts)
// has had its turn in this vitest run, or vitest has ended: scripts/test.sh starts the compose
// stack's test then, beside the rest of vitest (short files, longest first), instead of after it.
//   node devenv/after-machine-turns.ts <vitest pid>
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { lockDir, machineLockMarker, turnsHad } from './machine-turns.ts';

const vitest = Number(process.argv[2]);
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const testsDir = path.join(import.meta.dirname, '..', 'tests');
const loading = readdirSync(testsDir).filter((f) => f.endsWith('.test.ts') && readFileSync(path.join(testsDir, f), 'utf8').includes(machineLockMarker)).length;
const started = Date.now();
while (turnsHad(lockDir()) < loading && vitest > 0 && alive(vitest)) {
  await delay(1_000); // polling a file the test workers append to
}
const after = `${Math.round((Date.now() - started) / 1000)} s after vitest began`;
console.log(turnsHad(lockDir()) >= loading ? `(the ${loading} files that load the machine most have run, ${after})` : `(vitest has ended, ${after})`);
