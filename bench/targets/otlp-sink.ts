// The OTLP/HTTP receiver of the tracing benchmark, in its own process so receiving spans does not
// load the load generator: accepts POST /v1/traces (protobuf or JSON), counts requests, bytes and
// spans, discards them.
//   node bench/targets/otlp-sink.ts <port>      GET /stats -> {requests, bytes, spans}
import http from 'node:http';
import { countSpans } from '../../platform/telemetry/otlp-protobuf.ts';

const totals = { requests: 0, bytes: 0, spans: 0 };
const spanKey = '"spanId":';

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(totals));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => { chunks.push(chunk); });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    totals.requests += 1;
    totals.bytes += body.length;
    // Counting is enough: protobuf by walking only the containers, JSON by counting a key.
    // The answer in the request's encoding, as OTLP/HTTP wants: an empty response message.
    if (String(req.headers['content-type']).startsWith('application/x-protobuf')) {
      totals.spans += countSpans(body);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      return;
    }
    for (let at = body.indexOf(spanKey); at >= 0; at = body.indexOf(spanKey, at + spanKey.length)) totals.spans += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1');
process.once('SIGTERM', () => server.close());
