// A reader of the protobuf wire format (varints, fixed64, length-delimited fields), bounds-checked:
// a body that runs short or uses a wire type protobuf does not have is an OtlpDecodeError, so a
// receiver answers 400 and never crashes. Only what otlp-protobuf.ts needs.

export class OtlpDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OtlpDecodeError';
  }
}

export const wire = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;
export class Reader {
  private at: number;
  private readonly buf: Buffer;
  private readonly end: number;
  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.at = start;
    this.end = end;
  }

  done(): boolean {
    return this.at >= this.end;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; type: number } {
    const key = this.varint();
    return { field: Math.floor(key / 8), type: key & 7 };
  }

  varint(): number {
    return Number(this.bigVarint());
  }

  bigVarint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.at >= this.end) throw new OtlpDecodeError('truncated varint');
      const byte = this.buf[this.at++] as number;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
    throw new OtlpDecodeError('varint longer than 10 bytes');
  }

  fixed64(): bigint {
    this.need(8);
    const value = this.buf.readBigUInt64LE(this.at);
    this.at += 8;
    return value;
  }

  double(): number {
    this.need(8);
    const value = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return value;
  }

  /** A length-delimited field as a reader of its own. */
  sub(): Reader {
    const length = this.varint();
    this.need(length);
    const sub = new Reader(this.buf, this.at, this.at + length);
    this.at += length;
    return sub;
  }

  bytes(): Buffer {
    const length = this.varint();
    this.need(length);
    const out = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  string(): string {
    return this.bytes().toString('utf8');
  }

  skip(type: number): void {
    if (type === wire.varint) this.bigVarint();
    else if (type === wire.fixed64) this.advance(8);
    else if (type === wire.bytes) this.advance(this.varint());
    else if (type === wire.fixed32) this.advance(4);
    else throw new OtlpDecodeError(`unsupported wire type ${type}`);
  }

  private advance(n: number): void {
    this.need(n);
    this.at += n;
  }

  private need(n: number): void {
    if (n < 0 || this.at + n > this.end) throw new OtlpDecodeError('a field runs past the end of its message');
  }
}

/** Reads each field of a message, handing the wanted ones to `on` (which returns false for others). */
export function fields(r: Reader, on: (field: number, type: number) => boolean): void {
  while (!r.done()) {
    const { field, type } = r.tag();
    if (!on(field, type)) r.skip(type);
  }
}
