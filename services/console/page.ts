// The console's one page: the board's panels rendered in place (the page is useful before any
// script runs), a sign-in for the admin token, and the script that keeps it live. No inline script
// or style attribute from data: the Content-Security-Policy (app.ts) allows this origin's files only.
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

export type PageInput = { panels: Record<PanelId, Html> | undefined; source: string; intervalMs: number; adminUrl: string };

export function renderPage(input: PageInput): string {
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TPS Lab console: the Andon board</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
</head>
<body data-interval-ms="${input.intervalMs}">
<header>
  <h1>TPS Lab: the Andon board</h1>
  <p class="status"><span data-testid="connection" class="mark-none">connecting…</span> · <span data-testid="updated">never updated</span></p>
  <form id="signin" class="signin">
    <span data-testid="mode" class="mode">read-only</span>
    <label>Admin token <input type="password" name="token" autocomplete="off" placeholder="ADMIN_TOKEN"></label>
    <button type="submit">Sign in</button>
    <button type="button" id="signout" class="admin-only">Sign out</button>
  </form>
  <p class="message" data-testid="message" role="status"></p>
</header>
<main class="board">
${panelIds.map((id) => html`<section class="panel" id="panel-${id}"><h2>${titles[id]}</h2><div class="content" data-panel="${id}">${input.panels?.[id] ?? html`<p><small>waiting for the first two scrapes…</small></p>`}</div></section>`)}
</main>
<footer>
  <p><small>${input.source} Marks as in <code>tps status</code>: green normal, yellow watch, red act.
  Actions (force a breaker) go through the admin API at ${input.adminUrl} with your token; each is an audit event. Without a token the board is read-only.</small></p>
</footer>
</body>
</html>`.text}\n`;
}
