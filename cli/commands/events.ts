import { z } from 'zod';
import { parseDuration } from '#platform/config-types.ts';
import { recentEventMessages, type StoredEvent } from '#platform/nats/recent-events.ts';
import { eventSubject } from '#platform/nats/subjects.ts';
import { formatDuration } from '../chaos-format.ts';
import { parseFlags, UsageError } from '../output.ts';
import { table, withNats } from '../session.ts';

export const help = `
usage: tps events [--since 1h] [--kind KIND] [--limit 100] [--json]

The audit trail: every change an operator, the autoscaler, a lab or an exam made, and who made
it, as the EVENTS stream keeps them (tps.events.>, 7 days, the last 100 000), oldest first. Chaos
faults set, cleared and expired; live parameters set and reset; scaling, replicas, restarts and
the autoscaler's decisions; breakers forced; DLQ replays and purges; canary steps; tuning runs.

  --since D     how far back: 30m, 2h, 7d (default 1h; at most 7d, all the stream keeps)
  --kind KIND   only that kind of event and the kinds under it: chaos, chaos.set, control,
                config, autoscaler, dlq, canary, tune, exam ...
  --limit N     at most the N newest (default 100, 1 to 100000)
  --json        print the events as JSON, each with its subject and when it was stored

Examples:
  tps events                       what changed in the last hour
  tps events --kind chaos --since 24h
  tps events --kind control --json
`;

const days = (text: string) => /^(\d+)d$/.exec(text)?.[1];
const weekMs = 7 * 24 * 3_600_000;

const flagSchema = z.object({
  since: z.string().default('1h').transform((value, ctx) => {
    const day = days(value);
    const ms = day === undefined ? parseDuration(value) : Number(day) * 24 * 3_600_000;
    if (ms === undefined || ms <= 0 || ms > weekMs || !/[a-z]$/.test(value)) {
      ctx.addIssue({ code: 'custom', message: `expected a duration up to 7d such as 30m, 2h, 7d; got "${value}"` });
      return z.NEVER;
    }
    return ms;
  }),
  kind: z.string().regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/, 'expected a kind such as chaos, chaos.set, control or dlq').optional(),
  limit: z.string().default('100').transform((value, ctx) => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number from 1 to 100000; got "${value}"` });
      return z.NEVER;
    }
    return Number(value);
  }),
  json: z.boolean().default(false),
});

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { since: { type: 'string' }, kind: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } }, flagSchema, { positionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')} (a kind is given with --kind)`);
  // A kind and every kind under it: `chaos` is tps.events.chaos and tps.events.chaos.>, chosen
  // here (a consumer with two filters needs nats-server 2.10).
  const exact = values.kind && eventSubject(values.kind);
  const keep = exact ? (subject: string) => subject === exact || subject.startsWith(`${exact}.`) : undefined;
  // One more than asked: whether older ones were left out.
  const read = await withNats('events', ({ nc }) => recentEventMessages(nc, eventSubject('>'), { sinceMs: values.since, limit: values.limit + 1, ...(keep ? { keep } : {}) }));
  const more = read.length > values.limit;
  const events = more ? read.slice(1) : read;
  if (values.json) {
    console.log(JSON.stringify(events.map((e) => ({ subject: e.subject, storedAt: e.storedAt.toISOString(), ...e.event })), null, 2));
    return 0;
  }
  const scope = `in the last ${formatDuration(values.since)}${values.kind ? ` of kind ${values.kind}` : ''}`;
  if (events.length === 0) {
    console.log(`No audit events ${scope}.`);
    return 0;
  }
  console.log(table([['TIME (UTC)', 'KIND', 'BY', 'WHAT'], ...events.map(row)]));
  console.log(`\n${events.length} event${events.length === 1 ? '' : 's'} ${scope}${more ? `; older ones left out (--limit ${values.limit})` : ''}.`);
  return 0;
}

/** The envelope's time, kind and author, then every other field as key=value. */
function row({ subject, storedAt, event = {} }: StoredEvent): string[] {
  const { kind, at, by, ...fields } = event;
  const when = typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? new Date(at) : storedAt;
  const what = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' ');
  return [
    when.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''),
    typeof kind === 'string' ? kind : subject.replace(/^tps\.events\./, ''),
    typeof by === 'string' ? by : '-',
    what,
  ];
}
