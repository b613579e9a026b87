// The OTLP/HTTP receiver of the tracing benchmark, in its own process so receiving spans does not
// load the load generator: accepts POST /v1/traces, counts requests, bytes and spans, discards them.
//   node bench/targets/otlp-sink.ts <port>      GET /stats -> {requests, bytes, spans}
import http from 'node:http';

const totals = { requests: 0, bytes: 0, spans: 0 };
const spanKey = '"spanId":';

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(totals));
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => { body += chunk; });
  req.on('end', () => {
    totals.requests += 1;
    totals.bytes += Buffer.byteLength(body);
    // Counting a key is enough to know how many spans arrived; nothing is parsed or kept.
    for (let at = body.indexOf(spanKey); at >= 0; at = body.indexOf(spanKey, at + spanKey.length)) totals.spans += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1');
process.once('SIGTERM', () => server.close());
