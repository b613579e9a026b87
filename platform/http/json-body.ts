// The JSON body parser for every TPS HTTP server: strict JSON, and objects carrying `__proto__`
// or `constructor.prototype` keys are refused (prototype poisoning), with catalogue errors.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

export function parseJsonBody(body: string): unknown {
  if (body.length === 0) throw new AppError('INVALID_JSON', { detail: 'The body is empty.' });
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new AppError('INVALID_JSON', { detail: (err as Error).message, cause: err });
  }
  // Cheap pre-check: only walk the value when the text could hold a dangerous key.
  if ((body.includes('__proto__') || body.includes('constructor')) && hasPoisonKey(value)) {
    throw new AppError('INVALID_REQUEST', { detail: 'Keys named "__proto__" or "constructor.prototype" are not allowed.' });
  }
  return value;
}

function hasPoisonKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__') return true;
    if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return true;
    if (hasPoisonKey(child)) return true;
  }
  return false;
}

export function registerJsonParser(app: FastifyInstance): void {
  // Only JSON is accepted; every other media type gets 415 before the body is read.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
