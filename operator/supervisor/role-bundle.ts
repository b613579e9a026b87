// Bundles the roles' code into a folder: `node operator/supervisor/role-bundle.ts <folder>`. Run in
// a process of its own by role-build.ts: rolldown keeps about 370 MB of its memory after a build,
// which a supervisor that built in-process then held for its whole life (486 MB against 114 MB
// with the build reused); a process that ends gives it all back.
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: node operator/supervisor/role-bundle.ts <folder>');
  process.exit(2);
}
try {
  const { build } = await import('rolldown');
  await build({
    input: { main: path.join(projectRoot, 'cli', 'main.ts'), preload: path.join(projectRoot, 'platform', 'telemetry', 'preload.ts') },
    platform: 'node',
    logLevel: 'silent',
    output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  });
} catch (err) {
  // One line first, what the supervisor says ("roles run from source: their build failed (...)"):
  // rolldown's message is coloured, opens with a count and may end with a native backtrace.
  const text = (err as Error).message.replace(/\x1b\[[0-9;]*m/g, '');
  const all = text.split('\n');
  const backtrace = all.findIndex((l) => l.startsWith('Stack backtrace'));
  const said = (backtrace > 0 ? all.slice(0, backtrace) : all).map((l) => l.replace(/^\[[A-Z_]+\]\s*/, '').trim())
    .filter((l) => l && !/^Build failed with \d+ errors?:$|^Something went wrong inside rolldown|^Caused by:$/.test(l));
  console.error(said.join('; ') || text);
  process.exit(1);
}
