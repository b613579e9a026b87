// The tracing SDK of one process, started by the preload only when tracing is on: a tracer
// provider with a batch processor exporting OTLP/HTTP (protobuf, or JSON when asked), W3C propagation, the async-local
// context manager. No instrumentation library: a role's server spans (server-spans.ts) and client
// spans (client-spans.ts) are ours; the http, @fastify/otel and undici instrumentations made two
// spans per request and cost more per job than the rest of tracing together.
// The SDK's metrics and logs signals are not started: prom-client owns metrics, pino owns logs.
import { context, diag, DiagLogLevel, propagation, trace, type DiagLogger, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler,
  SimpleSpanProcessor, TraceIdRatioBasedSampler, TracerProvider, type Sampler, type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { lookup } from '../dns.ts';
import type { TracingSettings } from './settings.ts';

export type Tracing = { shutdown(): Promise<void> };

export async function startTracing(settings: TracingSettings): Promise<Tracing> {
  diag.setLogger(jsonDiagLogger(settings.serviceName), diagLevel(settings.diagLevel));
  const resource = resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': settings.serviceVersion, 'tps.track': settings.track }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({ resource, sampler: sampler(settings), spanProcessors: await processors(settings) });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagator(settings));
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}

async function processors(settings: TracingSettings): Promise<SpanProcessor[]> {
  const list: SpanProcessor[] = [];
  if (settings.exporters.includes('otlp')) {
    // Only the exporter of the chosen encoding is loaded: each is a tree of modules of its own.
    // Protobuf: the SDK's exporter with our encoder of the body (otlp-trace-exporter.ts).
    const Exporter = settings.protocol === 'http/json'
      ? (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter
      : (await import('./otlp-trace-exporter.ts')).ProtobufTraceExporter;
    // The SDK's agent options (keep-alive) with our lookup (platform/dns.ts): a Jaeger whose name
    // DNS leaves unanswered fails an export in seconds, holding none of libuv's threads.
    const httpAgentOptions = { keepAlive: true, lookup };
    list.push(new BatchSpanProcessor({ exporter: new Exporter({ ...(settings.endpoint ? { url: settings.endpoint } : {}), httpAgentOptions }), ...settings.batch }));
  }
  if (settings.exporters.includes('console')) list.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  return list;
}

function sampler(settings: TracingSettings): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(settings.samplerRatio);
  switch (settings.sampler) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return ratio();
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio() });
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function propagator(settings: TracingSettings): TextMapPropagator {
  return new CompositePropagator({
    propagators: settings.propagators.map((p) => (p === 'baggage' ? new W3CBaggagePropagator() : new W3CTraceContextPropagator())),
  });
}

function diagLevel(level: TracingSettings['diagLevel']): DiagLogLevel {
  const levels = { none: DiagLogLevel.NONE, error: DiagLogLevel.ERROR, warn: DiagLogLevel.WARN, info: DiagLogLevel.INFO, debug: DiagLogLevel.DEBUG, verbose: DiagLogLevel.VERBOSE, all: DiagLogLevel.ALL } as const;
  return levels[level];
}

/** The SDK's own warnings (e.g. an unreachable collector) as JSON lines like the role's logs. */
function jsonDiagLogger(service: string): DiagLogger {
  const write = (level: string) => (message: string, ...args: unknown[]) => {
    const detail = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), service, component: 'opentelemetry', msg: detail ? `${message} ${detail}` : message })}\n`);
  };
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug'), verbose: write('trace') };
}
