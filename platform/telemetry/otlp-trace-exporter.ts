// The roles' OTLP/HTTP protobuf span exporter: the SDK's own exporter (its HTTP transport,
// retries, timeouts, OTEL_EXPORTER_OTLP_* settings, answer handling) with our encoder of the
// request body (otlp-trace-encoder.ts), which writes the same bytes as the SDK's serializer for
// half its CPU. Built the way @opentelemetry/exporter-trace-otlp-proto builds its exporter, from
// the parts otlp-exporter-base publishes for that.
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper, type IExportTraceServiceResponse, type ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { encodeTraceExport } from './otlp-trace-encoder.ts';

const serializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: encodeTraceExport,
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
};

export class ProtobufTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor(config: OTLPExporterNodeConfigBase = {}) {
    super(createOtlpHttpExportDelegate(
      convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      serializer,
      'otlp_http_span_exporter', // the component type @opentelemetry/exporter-trace-otlp-proto reports
      TraceExporterMetricsHelper,
      undefined,
    ));
  }
}
