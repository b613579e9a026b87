// Port offsets for test stacks: TPS_PORT_OFFSET moves every port of a stack at once. Checking that
// the ports are free is not enough when test files run side by side: two stacks still starting
// listen nowhere yet, so both could pick offsets whose ports overlap, and one role then fails to
// listen (the supervisor test's `tps up` failed so in a CI run). So offsets come from a lattice
// whose step is no difference between two of our ports (two of its offsets never share a port),
// and each is claimed by creating a file (atomic), holding the claimant's pid: a claim lapses
// with its process, so the claims of a test file end with it.
import { chmodSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { portOwners } from '#platform/ports.ts';

/** Every role port stays below the kernel's ephemeral range (32768 and up): a port the OS hands to
 * another test's client or nats-server between the check and the role's start would otherwise
 * make that role fail to listen (seen in CI: service-b "keeps failing at start"). */
const range = { min: 1_000, max: 22_000 };
/** One folder per machine: two test runs on it (CI and a developer's) avoid each other too. */
export const claimsDir = path.join(os.tmpdir(), 'tps-test-port-offsets');

/** The smallest step from 85 up none of whose multiples in the range is a difference between two ports. */
function latticeStep(): number {
  const ports = [...portOwners().keys()];
  const differences = new Set(ports.flatMap((a) => ports.map((b) => a - b)).filter((d) => d > 0));
  for (let step = 85; step < range.max - range.min; step++) {
    let clear = true;
    for (let multiple = step; multiple <= range.max - range.min && clear; multiple += step) clear = !differences.has(multiple);
    if (clear) return step;
  }
  throw new Error('no step keeps two port offsets apart (platform/ports.ts)');
}

const step = latticeStep();
/** The lattice's offsets, in an order that starts elsewhere for each process (fewer claims tried in vain). */
export function candidateOffsets(seed = process.pid): number[] {
  const count = Math.floor((range.max - range.min) / step) + 1;
  return Array.from({ length: count }, (_, i) => range.min + ((seed + i) % count) * step);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims the offset for this process; false when a live process holds it. */
export function claimOffset(offset: number): boolean {
  shareClaimsDir();
  const file = path.join(claimsDir, String(offset));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(file, 'utf8') || 'NaN');
    // A claim being written (empty for an instant) counts as held; a dead holder's lapses.
    if (!Number.isInteger(holder) || alive(holder)) return false;
    // Another user's lapsed claim cannot be removed (the folder is sticky): it stays taken.
    try { rmSync(file, { force: true }); } catch { return false; }
  }
  return false;
}

/** The folder is every user's, as /tmp is (sticky: each removes only its own claims), so test runs
 * of several users on one machine (root's CI and a developer's) claim from the same lattice. */
function shareClaimsDir(): void {
  if (mkdirSync(claimsDir, { recursive: true }) !== undefined) chmodSync(claimsDir, 0o1777);
}
