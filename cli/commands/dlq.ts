import { createInterface } from 'node:readline/promises';
import { z } from 'zod';
import { groupEntries } from '#platform/dlq/entries.ts';
import { describeFilter, selectsEverything, type DlqFilter } from '#platform/dlq/filter.ts';
import { openDlqOperations, type DlqOperations, type Selection } from '#platform/dlq/operations.ts';
import { maxReplays } from '#platform/dlq/replay.ts';
import { poolNames } from '#platform/pools.ts';
import { defaultPorts } from '#platform/ports.ts';
import { formatEntries, formatEntry, formatGroups, formatPurge, formatReplay } from '../dlq-format.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';
import { operator, withNats } from '../session.ts';

export const help = `
usage: tps dlq <list|show|replay|purge> [ids...] [filters] [options]

The dead-letter queue holds jobs that failed for good (metric 6 of the handbook). Find out why,
fix the cause, then replay them; purge what should never run again.

  list                  entries grouped by pool, job type and error code, with counts, oldest
                        and newest (--entries: one line per entry)
  show <id>             one entry: job, payload, error, attempts, trace id, headers
                        (<id> is the entry's number from list, or the job id)
  replay [ids...]       put the jobs back on their queue as new jobs (each carries replayOf = the
                        original job id and a link to its trace) and remove the entries. Each entry
                        is replayed at most once, even by two replays at the same time; a job is
                        replayed at most ${maxReplays} times (a replay that came back is skipped after that).
  purge [ids...]        remove entries for good (asks for confirmation)

Filters (replay and purge need ids, a filter, or --all):
  --pool <${poolNames.join('|')}>  --type <job type>  --code <error code>  --reason <permanent|retries_exhausted|delivery_timeout>
  --job <job id>      --limit <n> (oldest first)

Options:
  --rate <n>     replay at most n jobs per second (default 10), so the fixed service is not flooded
  --dry-run      show what would be replayed or purged; change nothing
  --all          every entry (replay, purge)
  --yes          purge without asking
  --entries      list one line per entry
  --json         print the result as JSON

Examples:
  tps dlq list
  tps dlq show 42
  tps dlq replay --code FAULT_INJECTED --dry-run
  tps dlq replay --code FAULT_INJECTED --rate 20
  tps dlq purge --code INVALID_PAYLOAD
`;

const flags = {
  pool: { type: 'string' }, type: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' }, job: { type: 'string' },
  limit: { type: 'string' }, rate: { type: 'string' }, 'dry-run': { type: 'boolean' }, all: { type: 'boolean' }, yes: { type: 'boolean' },
  entries: { type: 'boolean' }, json: { type: 'boolean' },
} as const;

const flagSchema = z.object({
  pool: z.enum(poolNames).optional(),
  type: z.string().min(1).optional(),
  code: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
  job: z.string().min(1).optional(),
  limit: z.coerce.number().int().positive().optional(),
  rate: z.coerce.number().positive().max(1_000).default(10),
  'dry-run': z.boolean().default(false),
  all: z.boolean().default(false),
  yes: z.boolean().default(false),
  entries: z.boolean().default(false),
  json: z.boolean().default(false),
});
type Flags = z.output<typeof flagSchema>;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, flagSchema, { positionals: true });
  const [action, ...ids] = positionals;
  if (action !== 'list' && action !== 'show' && action !== 'replay' && action !== 'purge') {
    throw new UsageError(action ? `unknown action "${action}"; use list, show, replay or purge` : 'which action? list, show <id>, replay or purge');
  }
  if (action === 'show' && ids.length !== 1) throw new UsageError('show takes one id: `tps dlq show <id>` (from `tps dlq list --entries`)');
  if (action === 'list' && ids.length > 0) throw new UsageError(`list takes filters, not ids: ${ids.join(' ')}`);
  const bad = ids.filter((id) => action !== 'show' && !/^\d+$/.test(id));
  if (bad.length > 0) throw new UsageError(`entry ids are numbers (see \`tps dlq list --entries\`); for a job id use --job: ${bad.join(' ')}`);
  const filter = toFilter(values, action === 'show' ? [] : ids.map(Number));
  if ((action === 'replay' || action === 'purge') && selectsEverything(filter) && !values.all) {
    throw new UsageError(`Name the entries (ids) or a filter (--pool, --type, --code, --reason, --job), or use --all: \`tps dlq ${action} --code <code>\``);
  }

  return withNats('dlq', async ({ config, nc }) => {
    const dlq = await openDlqOperations(nc);
    try {
      if (action === 'list') return await list(dlq, filter, values);
      if (action === 'show') return await show(dlq, ids[0] ?? '', values.json);
      if (action === 'replay') return await replay(dlq, { filter, all: values.all }, values, config.operator.ingressUrl ?? `http://127.0.0.1:${defaultPorts.ingress + config.http.portOffset}`);
      return await purge(dlq, { filter, all: values.all }, values);
    } finally {
      dlq.close();
    }
  });
}

function toFilter(v: Flags, ids: number[]): DlqFilter {
  const filter: DlqFilter = {};
  if (ids.length) filter.ids = ids;
  if (v.pool) filter.pool = v.pool;
  if (v.type) filter.type = v.type;
  if (v.code) filter.code = v.code;
  if (v.reason) filter.reason = v.reason;
  if (v.job) filter.jobId = v.job;
  if (v.limit) filter.limit = v.limit;
  return filter;
}

async function list(dlq: DlqOperations, filter: DlqFilter, v: Flags): Promise<number> {
  const entries = await dlq.list(filter);
  if (v.json) console.log(JSON.stringify(v.entries ? entries : { total: entries.length, groups: groupEntries(entries) }, null, 2));
  else console.log(v.entries ? formatEntries(entries) : formatGroups(entries));
  return 0;
}

async function show(dlq: DlqOperations, id: string, json: boolean): Promise<number> {
  const entry = await dlq.show(id);
  if (!entry) throw new CommandError(`no DLQ entry ${id} (replayed or purged already? see \`tps dlq list --entries\`)`);
  console.log(json ? JSON.stringify(entry, null, 2) : formatEntry(entry));
  return 0;
}

async function replay(dlq: DlqOperations, selection: Selection, v: Flags, ingressUrl: string): Promise<number> {
  const outcomes = await dlq.replay(selection, {
    ratePerSecond: v.rate, dryRun: v['dry-run'], by: operator(),
    ...(v.json ? {} : { onOutcome: (o) => console.log(formatReplay(o)) }),
  });
  const count = (o: string) => outcomes.filter((x) => x.outcome === o).length;
  if (v.json) console.log(JSON.stringify({ dryRun: v['dry-run'], outcomes }, null, 2));
  else if (outcomes.length === 0) console.log(`No DLQ entries match (${describeFilter(selection.filter)}).`);
  else if (v['dry-run']) console.log(`Dry run: ${count('would_replay')} would be replayed, ${count('skipped')} skipped. Nothing changed.`);
  else console.log(`Replayed ${count('replayed')}, skipped ${count('skipped')}, failed ${count('failed')}. Follow them with \`curl ${ingressUrl}/jobs/<job id>\`.`);
  return count('failed') > 0 ? 1 : 0;
}

async function purge(dlq: DlqOperations, selection: Selection, v: Flags): Promise<number> {
  const planned = await dlq.purge(selection, { dryRun: true, by: operator() });
  if (planned.length === 0) {
    console.log(v.json ? JSON.stringify({ dryRun: v['dry-run'], outcomes: [] }) : `No DLQ entries match (${describeFilter(selection.filter)}).`);
    return 0;
  }
  if (v['dry-run']) {
    console.log(v.json ? JSON.stringify({ dryRun: true, outcomes: planned }, null, 2) : [...planned.map(formatPurge), `Dry run: ${planned.length} would be purged. Nothing changed.`].join('\n'));
    return 0;
  }
  if (!v.yes) await confirm(`Purge ${planned.length} DLQ entr${planned.length === 1 ? 'y' : 'ies'} (${describeFilter(selection.filter)}) for good?`);
  // Exactly the entries shown: anything dead-lettered since then is not touched.
  const outcomes = await dlq.purge({ filter: { ids: planned.map((o) => o.seq) } }, { dryRun: false, by: operator() });
  if (v.json) console.log(JSON.stringify({ dryRun: false, outcomes }, null, 2));
  else console.log([...outcomes.map(formatPurge), `Purged ${outcomes.filter((o) => o.outcome === 'purged').length}.`].join('\n'));
  return 0;
}

async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY) throw new CommandError('purge removes entries for good: confirm with --yes (no terminal to ask in), or look first with --dry-run');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`${question} Type "yes" to purge: `);
    if (answer.trim().toLowerCase() !== 'yes') throw new CommandError('not purged (not confirmed)');
  } finally {
    rl.close();
  }
}
