// Fills Node's compile cache (NODE_COMPILE_CACHE) when the image is built: the modules every role
// and every `tps` command loads, compiled once, TypeScript already stripped. The image's users
// cannot write it, and need not: each container's role or command then starts in about half the
// CPU time, without loading Node's TypeScript stripper (about 25 MB less per process;
// docs/benchmarks.md). Importing runs no role: each module only defines what it exports.
import { readdirSync } from 'node:fs';
import { flushCompileCache, getCompileCacheDir } from 'node:module';
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';

if (!getCompileCacheDir()) throw new Error('NODE_COMPILE_CACHE is not set: nothing to fill');
const commands = readdirSync(path.join(projectRoot, 'cli', 'commands')).filter((f) => f.endsWith('.ts')).map((f) => path.join(projectRoot, 'cli', 'commands', f));
const modules = [
  '#platform/telemetry/preload.ts', '#platform/telemetry/sdk.ts', '#services/registry.ts',
  '#workers/main.ts', '#services/chain/main.ts', '#services/ingress/main.ts', '#services/autoscaler/main.ts', '#services/console/main.ts',
  ...commands,
];
for (const specifier of modules) await import(specifier);
flushCompileCache();
console.log(`compile cache: ${modules.length} entry modules and what they import, in ${getCompileCacheDir()}`);
