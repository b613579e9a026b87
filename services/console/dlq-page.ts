// The console's dead-letter page: the DLQ grouped by pool, job type and error code (as
// `tps dlq list` groups it), a search by job id, type or error text, the entries found with a box
// each to choose, and one entry's detail. It reads the DLQ stream itself (its NATS user may read,
// never change it); replay and purge go through the admin API with the operator's token, a preview
// (dry run) first: the script (assets/console.js) drives them.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { groupEntries, readEntries, readEntry, type DlqEntry } from '#platform/dlq/entries.ts';
import { html, type Html } from './html.ts';

/** Entries shown at most on one page; the groups count every entry. */
export const shownEntries = 200;

export type DlqReader = { all(): Promise<DlqEntry[]>; one(seq: number): Promise<DlqEntry | undefined> };

export async function dlqReader(nc: NatsConnection): Promise<DlqReader> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  return { all: () => readEntries(js, jsm), one: (seq) => readEntry(jsm, seq) };
}

export type DlqQuery = { q?: string; pool?: string; type?: string; code?: string };

/** A job id, a job type or a piece of the error (code, message, reason): case does not matter. */
export function search(entries: readonly DlqEntry[], query: DlqQuery): DlqEntry[] {
  const q = query.q?.trim().toLowerCase();
  return entries.filter((e) => (!query.pool || e.pool === query.pool) && (!query.type || e.type === query.type) && (!query.code || e.code === query.code)
    && (!q || [e.jobId, e.type, e.code, e.message, e.reason].some((field) => field.toLowerCase().includes(q))));
}

const when = (iso: string) => iso.replace('T', ' ').slice(0, 19);
const groupLink = (g: { pool: string; type: string; code: string }) => `/dlq?${new URLSearchParams({ pool: g.pool, type: g.type, code: g.code })}`;

export function renderDlqBody(entries: readonly DlqEntry[], query: DlqQuery): Html {
  const found = search(entries, query);
  const narrowed = Boolean(query.q || query.pool || query.type || query.code);
  return html`<main class="page">
<section class="panel"><h2>Dead-letter queue: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, by pool, job type and error</h2>
${entries.length === 0 ? html`<p data-testid="dlq-empty">Empty: every accepted job completed, or its dead letter was replayed or purged.</p>` : html`
<table data-testid="dlq-groups"><thead><tr><th>pool</th><th>job type</th><th>error code</th><th>entries</th><th>oldest</th><th>newest</th></tr></thead><tbody>
${groupEntries(entries).map((g) => html`<tr><td>${g.pool}</td><td>${g.type}</td><td><a href="${groupLink(g)}">${g.code}</a></td><td>${g.count}</td><td>${when(g.oldest)}</td><td>${when(g.newest)}</td></tr>`)}
</tbody></table>`}
</section>
<section class="panel"><h2>Find entries</h2>
<form method="get" action="/dlq" class="search">
  <label>Job id, type or error text <input type="search" name="q" value="${query.q ?? ''}" data-testid="dlq-search"></label>
  ${query.pool ? html`<input type="hidden" name="pool" value="${query.pool}">` : ''}${query.type ? html`<input type="hidden" name="type" value="${query.type}">` : ''}${query.code ? html`<input type="hidden" name="code" value="${query.code}">` : ''}
  <button type="submit">Search</button> ${narrowed ? html`<a href="/dlq">show all</a>` : ''}
</form>
<p data-testid="dlq-found">${found.length} entr${found.length === 1 ? 'y' : 'ies'}${narrowed ? ' match' : ''}${found.length > shownEntries ? `; the oldest ${shownEntries} shown` : ''}.</p>
<form id="dlq-selection">
<table data-testid="dlq-entries"><thead><tr><th><input type="checkbox" id="select-all" aria-label="choose every entry shown"></th><th>id</th><th>dead-lettered</th><th>job id</th><th>type</th><th>error</th><th>attempts</th></tr></thead><tbody>
${found.slice(0, shownEntries).map((e) => html`<tr data-seq="${e.seq}"><td><input type="checkbox" name="seq" value="${e.seq}" aria-label="choose entry ${e.seq}"></td>
<td><a href="/dlq/${e.seq}">${e.seq}</a></td><td>${when(e.deadLetteredAt)}</td><td class="mono">${e.jobId}</td><td>${e.type}</td><td><strong>${e.code}</strong> ${e.message}</td><td>${e.attempts}</td></tr>`)}
</tbody></table>
<p class="admin-only actions">
  <label>Rate <input type="number" name="rate" value="10" min="1" max="1000" step="1"> jobs/s</label>
  <button type="button" data-dlq="preview">Preview replay</button>
  <button type="button" data-dlq="replay">Replay chosen</button>
  <button type="button" data-dlq="purge">Purge chosen</button>
</p>
</form>
<div data-testid="dlq-result" class="result"></div>
</section>
</main>`;
}

export function renderEntryBody(entry: DlqEntry | undefined, seq: number): Html {
  if (!entry) return html`<main class="page"><section class="panel"><p data-testid="dlq-entry-missing">No dead-letter entry ${seq}: it was replayed or purged, or never existed. <a href="/dlq">All entries</a></p></section></main>`;
  const rows: Array<[string, unknown]> = [
    ['id (DLQ sequence)', entry.seq], ['job id', entry.jobId], ['type', entry.type], ['pool', entry.pool], ['error code', entry.code], ['error', entry.message],
    ['reason', entry.reason], ['attempts', entry.attempts], ['dead-lettered at', entry.deadLetteredAt], ['first failure', entry.firstFailure ?? '-'],
    ['last failure', entry.lastFailure ?? '-'], ['trace id', entry.traceId ?? '-'], ['by', entry.by ?? '-'],
  ];
  return html`<main class="page"><section class="panel" data-testid="dlq-entry"><h2>Dead letter ${entry.seq}: ${entry.type}, ${entry.code}</h2>
<dl>${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}</dl>
<h3>What a replay would send again</h3>
<pre class="mono">${entry.job ? JSON.stringify({ type: entry.job.type, payload: entry.job.payload }, null, 2) : `not a valid job message (nothing to replay; purge it):\n${entry.data}`}</pre>
<p><a href="/dlq">All entries</a></p>
</section></main>`;
}
