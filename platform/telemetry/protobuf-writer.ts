// A protobuf writer for the one message a role sends many of, the trace export
// (otlp-trace-encoder.ts): one pass into one growing Buffer. The SDK's writer makes two passes
// (sizes first, then bytes), turns every id into a new array and copies strings char by char
// twice; under load its serializer was the costliest part of a span (docs/benchmarks.md#tracing).
// Output is canonical protobuf: minimal varints, lengths in front of their message.

/** Wire types (protobuf encoding spec). */
export const wire = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

const two32 = 2 ** 32;
/** Hex digit -> value for the id strings of a span context ([0-9a-fA-F]; others read as 0). */
const hexValue = new Uint8Array(128);
for (let i = 0; i < 10; i++) hexValue[48 + i] = i;
for (let i = 0; i < 6; i++) hexValue[97 + i] = hexValue[65 + i] = 10 + i;

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

export class ProtobufWriter {
  private buf: Buffer;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** The bytes written, a view of the writer's buffer: hand it on before writing again. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  tag(field: number, wireType: number): void {
    const key = (field << 3) | wireType;
    if (key > 0x7f) return this.varint(key);
    this.room(1);
    this.buf[this.pos++] = key; // fields 1-15: one byte
  }

  /** A uint32 or int64 as a varint; a negative number as its 64-bit two's complement (10 bytes). */
  varint(value: number): void {
    this.room(10);
    const buf = this.buf;
    let pos = this.pos;
    if (value >= 0 && value < two32) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
      this.pos = pos;
      return;
    }
    // Beyond 32 bits: through BigInt, which is exact where a double's arithmetic is not.
    let v = BigInt.asUintN(64, BigInt(Math.trunc(value)));
    while (v > 0x7fn) {
      buf[pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    buf[pos++] = Number(v);
    this.pos = pos;
  }

  /** UTF-8, length first. ASCII (every name and attribute of ours) is copied in one JS loop, faster than a native write for short strings. */
  string(s: string): void {
    const start = this.pos;
    const length = s.length;
    this.varint(length);
    this.room(length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return this.utf8String(s, start);
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  private utf8String(s: string, start: number): void {
    this.pos = start;
    const length = Buffer.byteLength(s, 'utf8');
    this.varint(length);
    this.room(length);
    this.pos += this.buf.write(s, this.pos, length, 'utf8');
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.room(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A hex id (trace id, span id) as the bytes it spells, length first. */
  hexBytes(hex: string): void {
    const length = hex.length >>> 1;
    this.varint(length);
    this.room(length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < hex.length; i += 2) buf[pos++] = (hexValue[hex.charCodeAt(i) & 0x7f]! << 4) | hexValue[hex.charCodeAt(i + 1) & 0x7f]!;
    this.pos = pos;
  }

  fixed32(value: number): void {
    this.room(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  double(value: number): void {
    this.room(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /**
   * An OpenTelemetry HrTime ([seconds, nanoseconds]) as fixed64 nanoseconds since the epoch. The
   * sum passes 2^53, so it is built from parts that each stay exact in a double.
   */
  hrTimeFixed64(seconds: number, nanos: number): void {
    const high16 = Math.floor(seconds / 65536);
    const low = (seconds % 65536) * 1e9 + nanos; // < 2^46: exact
    const highProduct = high16 * 1e9; // < 2^46; the total is highProduct * 2^16 + low
    const lowWord = (highProduct % 65536) * 65536 + (low % two32);
    const low32 = lowWord % two32;
    const high32 = Math.floor(highProduct / 65536) + Math.floor(low / two32) + Math.floor(lowWord / two32);
    this.room(8);
    this.buf.writeUInt32LE(low32, this.pos);
    this.buf.writeUInt32LE(high32 >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** Starts a length-delimited message: room for its length, `reserved` bytes, filled by `end`. */
  begin(reserved = 1): number {
    this.room(reserved);
    const start = this.pos;
    this.pos += reserved;
    return start;
  }

  /** Ends the message `begin` started: writes its length, moving the message when it needs more or fewer bytes. */
  end(start: number, reserved = 1): void {
    const length = this.pos - start - reserved;
    const size = varintSize(length);
    if (size !== reserved) {
      this.room(size - reserved);
      this.buf.copyWithin(start + size, start + reserved, this.pos);
      this.pos += size - reserved;
    }
    const buf = this.buf;
    let pos = start;
    let v = length;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos] = v;
  }

  private room(size: number): void {
    if (this.pos + size <= this.buf.length) return;
    let next = this.buf.length * 2;
    while (next < this.pos + size) next *= 2;
    const grown = Buffer.allocUnsafe(next);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
