// Open-model load for TPS Lab with k6: a constant arrival rate, whatever the server does, with the
// same inputs as `tps load` (RATE, DURATION, MIX). Run by the k6 service of docker-compose.yml
// (`make load RATE=500` in compose mode) or by a local k6: `k6 run loadgen/k6/constant-rate.js`.
// k6 counts the arrivals it could not start for lack of VUs as dropped_iterations.
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';

// Keep equal to defaultMix in loadgen/mix.ts (a test checks it).
const DEFAULT_MIX = 'fast.echo=60,fast.lookup=20,slow.report=15,slow.export=5';

const RATE = Number(__ENV.RATE || 100);
const DURATION = __ENV.DURATION || '2m';
const MIX = __ENV.MIX || DEFAULT_MIX;
const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

if (!Number.isInteger(RATE) || RATE < 1 || RATE > 20000) throw new Error(`RATE must be a whole number from 1 to 20000, got "${__ENV.RATE}"`);

function parseMix(spec) {
  const entries = spec.split(',').map((p) => p.trim()).filter(Boolean).map((part) => {
    const match = /^([\w.-]+)=(\d+)$/.exec(part);
    if (!match) throw new Error(`MIX: "${part}" is not <job type>=<weight>`);
    return { type: match[1], weight: Number(match[2]) };
  }).filter((e) => e.weight > 0);
  if (entries.length === 0) throw new Error('MIX is empty');
  return entries;
}

const mix = parseMix(MIX);
const totalWeight = mix.reduce((sum, e) => sum + e.weight, 0);

// 202 accepted; 429 (rate limit) and 503 (queue full) are the system shedding load on purpose:
// they are expected under overload and do not count as failures.
http.setResponseCallback(http.expectedStatuses(202, 429, 503));

const accepted = new Counter('jobs_accepted');
const shed = new Counter('jobs_shed');

export const options = {
  discardResponseBodies: false,
  scenarios: {
    jobs: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.min(1000, Math.max(10, Math.ceil(RATE / 10))),
      maxVUs: Math.min(2000, Math.max(50, RATE * 2)),
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{expected_response:true}': ['p(99)<1000'],
    dropped_iterations: ['count<' + String(Math.max(1, Math.ceil(RATE * 0.01)))],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

function pickType() {
  let r = Math.random() * totalWeight;
  for (const e of mix) {
    r -= e.weight;
    if (r < 0) return e.type;
  }
  return mix[mix.length - 1].type;
}

export default function () {
  const type = pickType();
  const res = http.post(`${BASE_URL}/jobs`, JSON.stringify({ type }), { headers: { 'content-type': 'application/json' }, tags: { type } });
  if (res.status === 202) accepted.add(1);
  else if (res.status === 429 || res.status === 503) shed.add(1);
  check(res, { 'accepted or shed (202/429/503)': (r) => r.status === 202 || r.status === 429 || r.status === 503 });
}
