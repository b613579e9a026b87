// undici's connection Pool, the HTTP client of every call along the chain (downstream.ts) and of
// the load generator. Loaded without undici's index: the index also loads its fetch, WebSocket,
// cache and mocks, and Node's web streams with them, about 13 MB of resident memory per process
// for nothing we call (docs/benchmarks.md, memory at rest). The Pool is the class the index
// exports; the index's one other step for it, putting the request API on every dispatcher, is
// repeated here for `request`, the only call we make. tests/layout.test.ts keeps every other
// module from importing undici's index as a value; tests/chain.test.ts and the pipeline tests
// call through it.
import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Dispatcher as UndiciDispatcher, Pool as UndiciPool } from 'undici';

const load = createRequire(import.meta.url);
const Dispatcher = load('undici/lib/dispatcher/dispatcher.js') as { prototype: Partial<Pick<UndiciDispatcher, 'request'>> };
Dispatcher.prototype.request ??= load('undici/lib/api/api-request.js') as UndiciDispatcher['request'];

export type Pool = UndiciPool;
export const Pool: typeof UndiciPool = load('undici/lib/dispatcher/pool.js');
/** A pool per origin, for a client of many (platform/http/bounded-request.ts). */
export type Agent = UndiciAgent;
export const Agent: typeof UndiciAgent = load('undici/lib/dispatcher/agent.js');
