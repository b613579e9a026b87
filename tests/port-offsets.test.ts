// Test stacks side by side: the port offsets handed to them never share a port, and a claimed
// offset is not handed out again while its claimant lives (devenv/port-offsets.ts).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { portOwners } from '#platform/ports.ts';
import { candidateOffsets, claimOffset, claimsDir } from '#devenv/port-offsets.ts';
import { freeOffset } from '#devenv/stack.ts';

it('never gives two stacks offsets whose ports overlap, and keeps them below the ephemeral range', () => {
  const ports = [...portOwners().keys()];
  const offsets = candidateOffsets(0);
  expect(offsets.length).toBeGreaterThan(100);
  const owner = new Map<number, number>();
  for (const offset of offsets) {
    for (const port of ports) {
      expect(owner.get(port + offset), `port ${port + offset} by offsets ${owner.get(port + offset)} and ${offset}`).toBeUndefined();
      owner.set(port + offset, offset);
    }
  }
  expect(Math.max(...offsets) + Math.max(...ports.filter((p) => p < 10_000))).toBeLessThan(32_768);
});

it('hands out an offset once while its claimant lives, and again after it died', async () => {
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const offset = candidateOffsets(other.pid).find((o) => claimOffset(o)) ?? 0;
    // Another live process holds it now.
    writeFileSync(path.join(claimsDir, String(offset)), String(other.pid));
    expect(claimOffset(offset)).toBe(false);
    other.kill('SIGKILL');
    await new Promise((resolve) => other.once('exit', resolve));
    expect(claimOffset(offset)).toBe(true);
    expect(readFileSync(path.join(claimsDir, String(offset)), 'utf8')).toBe(String(process.pid));
    // This process's own claims are not handed out again either.
    expect(claimOffset(offset)).toBe(false);
    expect(await freeOffset()).not.toBe(offset);
  } finally {
    other.kill('SIGKILL');
  }
});
