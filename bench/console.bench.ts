// What the console weighs and costs: the bytes a browser loads for the board (the page, its script
// and style, one live update) and for a job's page; and the console's own CPU over a steady load
// (fast.echo, `tps load`), in one run: idle, then under load with no page open, then with one board
// open (its event stream), on a stack whose spans go to the console's own receiver (native mode
// without Jaeger), and the same with tracing off. CPU from the console's process_cpu_seconds_total.
//   node bench/console.bench.ts [--rate 500] [--seconds 20]
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { benchArgs } from './lib/args.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { metricValue, startStack, type Stack } from '#devenv/stack.ts';

const args = benchArgs(import.meta.url, { rate: { type: 'string' }, seconds: { type: 'string' } });
const rate = args.whole('rate', 500);
const seconds = args.whole('seconds', 20);

/** Every figure of this run, written to bench/results/console-latest.json at the end. */
const results: Record<string, unknown> = { at: new Date().toISOString(), rate, seconds };

const cpuSeconds = (stack: Stack) => metricValue(stack.url('console'), /^process_cpu_seconds_total /);

/** The console's CPU, as a share of one core, while `during` runs. */
async function consoleCpu(stack: Stack, during: () => Promise<unknown>): Promise<number> {
  const [cpu0, t0] = [await cpuSeconds(stack), performance.now()];
  await during();
  const [cpu1, t1] = [await cpuSeconds(stack), performance.now()];
  return ((cpu1 - cpu0) / ((t1 - t0) / 1000)) * 100;
}

const steadyLoad = (stack: Stack) => tps(['load', '--rate', String(rate), '--duration', `${seconds}s`, '--mix', 'fast.echo=1', '--url', stack.url('ingress')], {}, { timeoutMs: (seconds + 60) * 1000 });
const idle = () => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** An open board: its event stream, read until stopped; each board update counted with its size. */
function openBoard(stack: Stack): { events: () => number; bytes: () => number; close: () => void } {
  const abort = new AbortController();
  let events = 0;
  let bytes = 0;
  let text = '';
  void fetch(`${stack.url('console')}/events`, { signal: abort.signal }).then(async (res) => {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString('utf8');
      const blocks = text.split('\n\n');
      text = blocks.pop() ?? '';
      for (const block of blocks.filter((b) => b.startsWith('event: board'))) { events += 1; bytes += Buffer.byteLength(block); }
    }
  }).catch(() => undefined);
  return { events: () => events, bytes: () => bytes, close: () => abort.abort() };
}

/** Polls until `done` or the deadline (the first update needs two scrapes of every role). */
async function until(done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done() && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 250));
}

async function weigh(stack: Stack): Promise<void> {
  const base = stack.url('console');
  const id = String((await postJob(stack.url('ingress'), { type: 'slow.report' })).json.id);
  await new Promise((resolve) => setTimeout(resolve, 8_000)); // the job done, its spans exported
  const rows: Array<[string, Buffer]> = [];
  for (const [name, path] of [['board page (/)', '/'], ['console.js', '/console.js'], ['console.css', '/console.css'], [`job page (/jobs/<id>, slow.report)`, `/jobs/${id}`]] as const) {
    rows.push([name, Buffer.from(await (await fetch(`${base}${path}`)).arrayBuffer())]);
  }
  const board = openBoard(stack);
  await until(() => board.events() >= 3, 30_000);
  board.close();
  console.log('| what | bytes | gzip |');
  console.log('|---|---|---|');
  for (const [name, body] of rows) console.log(`| ${name} | ${body.length} | ${gzipSync(body).length} |`);
  const first = rows.slice(0, 3).reduce((sum, [, b]) => sum + b.length, 0);
  console.log(`| the board's first load (page, script, style) | ${first} | ${rows.slice(0, 3).reduce((sum, [, b]) => sum + gzipSync(b).length, 0)} |`);
  console.log(`| one live update of the board (event stream, average of ${board.events()}) | ${Math.round(board.bytes() / Math.max(1, board.events()))} | |`);
  results.bytes = Object.fromEntries(rows.map(([name, body]) => [name, { raw: body.length, gzip: gzipSync(body).length }]));
  results.liveUpdateBytes = Math.round(board.bytes() / Math.max(1, board.events()));
}

async function measure(label: string, env: Record<string, string>, withWeights: boolean): Promise<void> {
  const nats = await startNatsServer();
  const stack = await startStack(nats.url, { LOG_LEVEL: 'warn', AUTOSCALER_ENABLED: 'false', ...env }, { console: true });
  try {
    console.log(`\n${label}: ${rate} jobs/s of fast.echo for ${seconds} s per step`);
    if (withWeights) await weigh(stack);
    const quiet = await consoleCpu(stack, idle);
    const loaded = await consoleCpu(stack, () => steadyLoad(stack));
    const board = openBoard(stack);
    const watched = await consoleCpu(stack, () => steadyLoad(stack));
    board.close();
    console.log(`console CPU, idle, no page open: ${quiet.toFixed(1)} % of a core`);
    console.log(`console CPU at ${rate} jobs/s, no page open: ${loaded.toFixed(1)} %`);
    console.log(`console CPU at ${rate} jobs/s, one board open (${board.events()} updates): ${watched.toFixed(1)} %`);
    results[label] = { idlePercent: quiet, loadedPercent: loaded, boardOpenPercent: watched };
  } finally {
    await stack.stop();
    await nats.dispose();
  }
}

await measure('spans to the console\'s own receiver (native mode without Jaeger)', {}, true);
await measure('tracing off (OTEL_SDK_DISABLED=true)', { OTEL_SDK_DISABLED: 'true' }, false);
writeFileSync(new URL('./results/console-latest.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
