// The console's pages: one layout (title, the pages' links, the sign-in for the admin token, the
// message line) around each page's body, rendered in place so a page is useful before any script
// runs. No inline script or style: the Content-Security-Policy (app.ts) allows this origin's files only.
import { html, type Html } from './html.ts';
import { panelIds, type PanelId } from './board.ts';

const titles: Record<PanelId, string> = {
  breakers: '1. Circuit breakers',
  queues: '2. Queue depth against the maximum (40-60 % band)',
  workers: '3. Worker utilisation',
  errors: '4. Error rate (0.1 % / 1 % bands)',
  latency: '5. Latency p50 / p90 / p99',
  throughput: '6. Throughput against incoming load',
  resources: '7. CPU and memory per role',
  flow: 'Refusals, dead letters, autoscaler, chaos',
};

const pages = [{ href: '/', name: 'Andon board' }, { href: '/dlq', name: 'Dead letters' }, { href: '/jobs', name: 'Jobs' }, { href: '/lab', name: 'Lab' }] as const;

export type Layout = { title: string; page: (typeof pages)[number]['href']; body: Html; footer: Html; live?: { intervalMs: number; events?: string } };

export function layout(input: Layout): string {
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TPS Lab console: ${input.title}</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
</head>
<body data-page="${input.page}" ${input.live ? html`data-live="${input.live.events ?? '/events'}" data-interval-ms="${input.live.intervalMs}"` : ''}>
<header>
  <h1>TPS Lab: ${input.title}</h1>
  <nav>${pages.map((p) => html`<a href="${p.href}" ${p.href === input.page ? html`aria-current="page"` : ''}>${p.name}</a>`)}
    <form method="get" action="/jobs" class="find-job"><input type="search" name="id" placeholder="job id" aria-label="job id"></form></nav>
  ${input.live ? html`<p class="status"><span data-testid="connection" class="mark-none">connecting…</span> · <span data-testid="updated">never updated</span></p>` : ''}
  <form id="signin" class="signin">
    <span data-testid="mode" class="mode">read-only</span>
    <label>Admin token <input type="password" name="token" autocomplete="off" placeholder="ADMIN_TOKEN"></label>
    <button type="submit">Sign in</button>
    <button type="button" id="signout" class="admin-only">Sign out</button>
  </form>
  <p class="message" data-testid="message" role="status"></p>
</header>
${input.body}
<footer><p><small>${input.footer}</small></p></footer>
</body>
</html>`.text}\n`;
}

export type BoardPage = { panels: Record<PanelId, Html> | undefined; alerts: Html; history: Html; source: string; intervalMs: number; adminUrl: string };

export function renderBoardPage(input: BoardPage): string {
  return layout({
    title: 'the Andon board', page: '/', live: { intervalMs: input.intervalMs },
    body: html`<section class="panel andon-cord" id="panel-alerts"><h2>Alerts: the Andon cord</h2><div class="content" data-panel="alerts">${input.alerts}</div></section>
<main class="board">
${panelIds.map((id) => html`<section class="panel" id="panel-${id}"><h2>${titles[id]}</h2><div class="content" data-panel="${id}">${input.panels?.[id] ?? html`<p><small>waiting for the first two scrapes…</small></p>`}</div></section>`)}
</main>`,
    footer: html`${input.source} <span data-panel="history">${input.history}</span> Marks as in <code>tps status</code>: green normal, yellow watch, red act.
  Actions go through the admin API at ${input.adminUrl} with your token; each is an audit event. Without a token the console is read-only.`,
  });
}
