// The ledger of a load run: one JSON line per job the ingress accepted, {"id","type","acceptedAt"},
// written as the 202s arrive. `tps audit` reads it back to check that every accepted job finished.
import { createWriteStream, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AcceptedJob } from './generator.ts';

const lineSchema = z.object({ id: z.string().min(1).max(100), type: z.string().min(1).max(100), acceptedAt: z.string() });
export type LedgerLine = z.infer<typeof lineSchema>;

export class LedgerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerError';
  }
}

/** .tps/load/ledger-2026-01-31T10-20-30Z.jsonl: sortable, so the newest is the last by name. */
export function defaultLedgerPath(loadDir: string, now = new Date()): string {
  return path.join(loadDir, `ledger-${now.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')}.jsonl`);
}

export type LedgerWriter = { write(job: AcceptedJob): void; close(): Promise<void> };

export function openLedger(file: string): LedgerWriter {
  mkdirSync(path.dirname(file), { recursive: true });
  const stream = createWriteStream(file, { flags: 'w' });
  let failure: Error | undefined;
  stream.on('error', (err) => { failure = err; });
  return {
    write: (job) => { if (!failure) stream.write(`${JSON.stringify({ id: job.id, type: job.type, acceptedAt: job.acceptedAt })}\n`); },
    close: () => new Promise((resolve, reject) => {
      if (failure) return reject(new LedgerError(`could not write the ledger ${file}: ${failure.message}`));
      stream.end(() => (failure ? reject(new LedgerError(`could not write the ledger ${file}: ${failure.message}`)) : resolve()));
    }),
  };
}

export function readLedger(file: string): LedgerLine[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    throw new LedgerError(`cannot read the ledger ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const lines: LedgerLine[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let parsed: unknown;
    try { parsed = JSON.parse(raw); } catch { throw new LedgerError(`${file} line ${i + 1} is not JSON; a ledger has one {"id","type","acceptedAt"} object per line`); }
    const line = lineSchema.safeParse(parsed);
    if (!line.success) throw new LedgerError(`${file} line ${i + 1}: ${line.error.issues.map((x) => `${x.path.join('.') || 'line'}: ${x.message}`).join('; ')}`);
    lines.push(line.data);
  });
  return lines;
}

/** The newest ledger in the folder, or undefined when there is none. */
export function latestLedger(loadDir: string): string | undefined {
  let names: string[];
  try { names = readdirSync(loadDir).filter((n) => /^ledger-.*\.jsonl$/.test(n)); } catch { return undefined; }
  const files = names.map((n) => path.join(loadDir, n));
  return files.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs || a.localeCompare(b)).at(-1);
}
