import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '#platform/config-types.ts';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { auditJobs, StatusReadError } from '#operator/audit/audit.ts';
import { formatAudit, auditJson } from '#operator/audit/report.ts';
import { latestLedger, LedgerError, readLedger } from '#loadgen/ledger.ts';
import { nativeTargets } from '#operator/status/collect.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';
import { withNats } from '../session.ts';

export const help = `
usage: tps audit [LEDGER] [--wait 60s] [--json] [--service-c URL]

The no-loss audit. Reads a ledger written by \`tps load\` (one line per accepted job; default: the
newest in .tps/load/) and the job status bucket (tps_jobs), and splits the accepted jobs (A) into
  completed (C), dead-lettered (D), still in flight (F) and lost (L), with A = C + D + F + L.
Lost means nothing can finish the job any more: the system has no status for it at all, or its
status is accepted/processing while its pool's queue is empty. Duplicates are accepted jobs
service-c did more than once (at-least-once delivery: reported, not a failure). A dead-lettered
job that was replayed (\`tps dlq replay\`) is followed to its replacement and counted by where that
ends, so after a fix and a replay the audit shows D back at 0. A job first read as lost is read
again on its own, and in a NATS cluster a loss is concluded before the wait ends only while every
replica of tps_jobs is current (one catching up after a partition can be behind).

  --wait D          poll until nothing is in flight, at most D (default 60s; 0 looks once)
  --service-c URL   where to ask for duplicates (default: the one \`tps up\` runs)
  --json            print the result as JSON

Exit status: 0 when no job is lost, 1 when any is (or NATS cannot be reached), 2 for bad usage.
Job statuses are kept for 1 h: audit a ledger within the hour.

Examples:
  tps audit
  tps audit .tps/load/ledger-2026-01-31T10-20-30Z.jsonl --wait 2m
`;

const flagSchema = z.object({
  wait: z.string().default('60s').transform((value, ctx) => {
    const ms = value === '0' ? 0 : parseDuration(value);
    if (ms === undefined || ms > 3_600_000) ctx.addIssue({ code: 'custom', message: `expected a duration up to 1h such as 0, 30s, 2m; got "${value}"` });
    return ms ?? 0;
  }),
  'service-c': z.string().regex(/^https?:\/\/\S+$/, 'expected http://host:port').optional(),
  json: z.boolean().default(false),
});

export async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, { wait: { type: 'string' }, 'service-c': { type: 'string' }, json: { type: 'boolean' } }, flagSchema, { positionals: true });
  if (positionals.length > 1) throw new UsageError(`one ledger at a time, got ${positionals.length}`);
  const config = loadConfig();
  const loadDir = path.join(stateDir(config.stateDir), 'load');
  const file = positionals[0] ?? latestLedger(loadDir);
  if (!file) throw new CommandError(`no ledger in ${loadDir}; run \`tps load\` first or name a ledger file`);
  let lines;
  try { lines = readLedger(file); } catch (err) { throw err instanceof LedgerError ? new CommandError(err.message) : err; }
  const serviceCUrl = v['service-c'] ?? nativeTargets(config.stateDir).find((t) => t.role === 'service-c')?.url ?? config.chain.urls['service-c'];
  const oldest = lines.reduce<string | undefined>((min, l) => (!min || l.acceptedAt < min ? l.acceptedAt : min), undefined);
  if (oldest && Date.now() - Date.parse(oldest) > 3_600_000) console.error(`tps audit: warning: the ledger starts at ${oldest}, more than 1 h ago; job statuses expire after 1 h, so old jobs will show as lost`);
  if (!v.json) console.error(`tps audit: ${file}: ${lines.length} accepted jobs${v.wait ? `; waiting up to ${v.wait / 1000}s for those in flight` : ''}`);

  const result = await withNats('audit', ({ nc }) => auditJobs(nc, lines.map((l) => l.id), {
    waitMs: v.wait, serviceCUrl,
    ...(v.json || !process.stderr.isTTY ? {} : { onPoll: (r) => process.stderr.write(`\r\x1b[2Kin flight ${r.inFlight}, completed ${r.completed}, dead-lettered ${r.deadLettered}`) }),
  })).catch((err: unknown) => { throw err instanceof StatusReadError ? new CommandError(err.message) : err; });
  if (!v.json && process.stderr.isTTY && v.wait) process.stderr.write('\r\x1b[2K');
  console.log(v.json ? JSON.stringify(auditJson(file, lines.length, result), null, 2) : formatAudit(result));
  if (result.lost > 0) {
    console.error(`tps audit: ${result.lost} accepted job${result.lost === 1 ? ' was' : 's were'} lost (see the ids above; \`curl <ingress>/jobs/<id>\` shows what the system knows)`);
    return 1;
  }
  return 0;
}
