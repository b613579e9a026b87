// A disk that can lose its power (reliability matrix R8): an ext4 filesystem on a loop device whose
// backing file is the "platters". What the kernel has written to the loop device is in that file;
// what a process wrote but the kernel still holds in its page cache (not yet written back, not
// fsynced) is not. A power cut copies the file at that moment, throws the mounted filesystem and
// its page cache away, and mounts the copy where the old one was: ext4 replays its journal, as a
// host does when it boots again, and what the process finds is what a real power cut would have
// left. Needs root, a free loop device and mkfs.ext4 (e2fsprogs), which the test machines have.
// A real filesystem's crash behaviour, not a model of one: ext4's defaults (data=ordered, delayed
// allocation, a journal commit every 5 s, dirty data written back after 30 s) decide what is lost.
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type CrashDisk = {
  /** Where the filesystem is mounted; the same folder after a power cut. */
  readonly dir: string;
  /**
   * The power goes: call it once every process writing here has been killed (SIGKILL, so none
   * flushes on the way out). Afterwards `dir` holds what had reached the disk, and nothing else.
   * Returns the filesystem's bytes in use just before (what the processes had written, the page
   * cache's included) and after (what the disk had).
   */
  powerCut(): { usedBefore: number; usedAfter: number };
  /** Everything written so far reaches the disk (`sync --file-system`): a host that has run a while. */
  syncAll(): void;
  /**
   * This one file reaches the disk (an fsync of it), as the kernel may write any file back at any
   * moment on its own: a test that needs a crash state it saw happen by itself makes sure of it.
   */
  syncFile(file: string): void;
  /** Fills the filesystem to the last block (root's reserve too); returns what empties it again. */
  fill(): () => void;
  /** Unmounts it and deletes the disk. */
  dispose(): void;
};

const run = (command: string, args: string[]): string => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr?.trim() || (err as Error).message} (a crash disk needs root, a free loop device and mkfs.ext4)`);
  }
};

/** A new empty ext4 filesystem of `sizeMiB` (a sparse file: only what is written takes memory),
 * mounted at a new folder under `name`. */
export function createCrashDisk(name: string, sizeMiB = 4096): CrashDisk {
  // Under the test run's temp folder (in memory in `make test`, which unmounts what a killed run
  // left mounted there): a power cut copies the backing file, a copy of memory then.
  const root = mkdtempSync(path.join(os.tmpdir(), `tps-crash-${name}-`));
  const dir = path.join(root, 'mnt');
  mkdirSync(dir);
  let generation = 0;
  let image = path.join(root, `disk-${generation}.img`);
  let mounted: Mounted | undefined;
  try {
    run('truncate', ['--size', `${sizeMiB}M`, image]);
    run('mkfs.ext4', ['-q', '-F', image]);
    mounted = mount(image, dir);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    powerCut() {
      const usedBefore = usedBytes(dir);
      // The copy is the disk at this moment: the kernel's later write-backs go to the old file.
      const survivor = path.join(root, `disk-${++generation}.img`);
      run('cp', ['--sparse=always', image, survivor]);
      mounted?.release();
      mounted = undefined;
      rmSync(image, { force: true });
      image = survivor;
      mounted = mount(image, dir);
      return { usedBefore, usedAfter: usedBytes(dir) };
    },
    syncAll: () => { run('sync', ['--file-system', dir]); },
    syncFile: fsyncFile,
    fill: () => fillUp(dir),
    dispose() {
      try {
        mounted?.release();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Ballast to the last block: one file as large as fits with room for its block map, then ever
 * smaller ones. Returns what removes it. */
function fillUp(dir: string): () => void {
  const ballast = mkdtempSync(path.join(dir, 'ballast-'));
  let size = Math.max(0, freeBytes(dir) - 2 ** 20);
  for (let i = 0; size >= 4096; i++) {
    try {
      run('fallocate', ['--length', String(size), path.join(ballast, String(i))]);
    } catch {
      size = Math.floor(size / 2);
    }
  }
  return () => rmSync(ballast, { recursive: true, force: true });
}

type Mounted = { release(): void };

/** The backing file on a free loop device, its filesystem mounted at `dir`. */
function mount(image: string, dir: string): Mounted {
  const device = run('losetup', ['--find', '--show', image]);
  try {
    run('mount', ['-t', 'ext4', device, dir]);
  } catch (err) {
    run('losetup', ['--detach', device]);
    throw err;
  }
  return {
    release() {
      // A lazy unmount cannot hang on the dead filesystem; its page cache is dropped with it.
      run('umount', ['--lazy', dir]);
      run('losetup', ['--detach', device]);
    },
  };
}

/** Free blocks, root's reserve included (nats-server runs as root here and may use it). */
function freeBytes(dir: string): number {
  const { bfree, bsize } = statfsSync(dir);
  return bfree * bsize;
}

/** ext4 counts the blocks reserved for data not yet written back as in use. */
function usedBytes(dir: string): number {
  const { blocks, bfree, bsize } = statfsSync(dir);
  return (blocks - bfree) * bsize;
}
