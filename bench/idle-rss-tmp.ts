import { readFileSync } from 'node:fs';
import { startNatsServer } from '#devenv/nats-server.ts';
import { startStack } from '#devenv/stack.ts';
const nats = await startNatsServer();
const stack = await startStack(nats.url, { LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: "true", ...(process.env.SEMI ? { NODE_OPTIONS: `--max-semi-space-size=${process.env.SEMI}` } : {}) }, { console: true });
await new Promise((r) => setTimeout(r, 10_000));
const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
let total = 0;
for (const name of stack.supervisor.processNames()) { const pid = stack.supervisor.pidOf(name); if (!pid) continue; const mb = rss(pid); total += mb; console.log(name.padEnd(14), mb.toFixed(1), 'MB'); }
console.log('total', total.toFixed(1));
await stack.stop(); await nats.dispose();
