// Node's `http` module, for every TPS process. Not `import http from 'node:http'`: an ES module
// import of a built-in copies all of its exports, and reading node:http's lazy ones loads Node's
// own fetch (its bundled undici) and the web streams behind it, about 16 MB of resident memory
// per process that no role uses (docs/benchmarks.md, memory at rest). `getBuiltinModule` hands
// back the module object itself, as `require` would, so nothing is read until it is used.
// tests/layout.test.ts keeps every other module from importing node:http as a value.
export const http: typeof import('node:http') = process.getBuiltinModule('node:http');
