// A latency histogram of fixed size, HdrHistogram-style: values in microseconds fall into
// log-linear buckets (128 per power of two, under 1 % error) from 1 µs to over an hour, so a
// run of any length costs the same few kilobytes. Count, sum, min and max are exact.
const exact = 256; // below 256 µs every microsecond has its own bucket
const half = exact / 2; // above, each power of two is split into 128 buckets
const maxMicros = 2 ** 32 - 1; // about 71 minutes, beyond any request (runs are capped at 1 h)
const bucketCount = exact + (32 - 8) * half;

export type LatencyStats = { count: number; avg: number; min: number; max: number; p50: number; p90: number; p95: number; p99: number };

export class LatencyHistogram {
  counts = new Uint32Array(bucketCount);
  count = 0;
  sumMs = 0;
  minMs = Infinity;
  maxMs = 0;

  record(ms: number): void {
    const value = Math.max(0, ms);
    this.counts[bucketOf(value)]! += 1;
    this.count += 1;
    this.sumMs += value;
    if (value < this.minMs) this.minMs = value;
    if (value > this.maxMs) this.maxMs = value;
  }

  /** The value at percentile p (0-100), in ms: the upper edge of its bucket, never above max. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, upperEdgeMs(i)));
    }
    return this.maxMs;
  }

  stats(): LatencyStats {
    const empty = this.count === 0;
    return {
      count: this.count,
      avg: empty ? 0 : this.sumMs / this.count,
      min: empty ? 0 : this.minMs,
      max: this.maxMs,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
    };
  }
}

function bucketOf(ms: number): number {
  const us = Math.min(maxMicros, Math.floor(ms * 1000));
  if (us < exact) return us;
  const shift = 31 - Math.clz32(us) - 7; // us >> shift lands in [128, 256)
  return exact + (shift - 1) * half + ((us >>> shift) - half);
}

function upperEdgeMs(index: number): number {
  if (index < exact) return (index + 1) / 1000;
  const shift = Math.floor((index - exact) / half) + 1;
  const sub = ((index - exact) % half) + half;
  return ((sub + 1) * 2 ** shift) / 1000;
}
