// Maps every error a Fastify route can raise to the catalogue: stable code, status, safe message.
// 5xx details go to the log only; clients never see a stack trace.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError, type ErrorCode } from '../errors.ts';

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_VALIDATION: 'INVALID_REQUEST',
  // Found while routing (framework-errors.ts hands them here).
  FST_ERR_BAD_URL: 'MALFORMED_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URL_TOO_LONG',
};

export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const fst = err as Partial<FastifyError>;
  const mapped = fst.code ? fastifyCodes[fst.code] : undefined;
  if (mapped) return new AppError(mapped, { cause: err, ...(mapped === 'INVALID_REQUEST' ? { detail: fst.message } : {}) });
  if (typeof fst.statusCode === 'number' && fst.statusCode >= 400 && fst.statusCode < 500) {
    return new AppError('INVALID_REQUEST', { cause: err, detail: fst.message });
  }
  return new AppError('INTERNAL', { cause: err });
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.toJSON());
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = toAppError(err);
  // The request's server span says which catalogue error ended it, and why (server-spans.ts).
  const span = trace.getActiveSpan();
  span?.setAttribute('error.type', error.code);
  span?.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  // Expected refusals (queue full, broker down, overload) are counted by metrics, not logged
  // one by one: at thousands a second the log would become the bottleneck.
  if (error.code === 'INTERNAL') {
    request.log.error({ err: error.cause ?? err, code: error.code, route: request.routeOptions.url }, 'request failed');
  }
  return sendError(reply, error);
}
