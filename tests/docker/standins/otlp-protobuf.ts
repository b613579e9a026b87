// The project's OTLP protobuf decoder, for the Jaeger stand-in. In the stand-in's image this file
// is the decoder itself (tests/docker/images.sh copies platform/telemetry/otlp-protobuf.ts and the
// protobuf-reader.ts it imports here; its other import is a type, gone at run time).
export { decodeTraceExport } from '../../../platform/telemetry/otlp-protobuf.ts';
