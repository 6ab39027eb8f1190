/** Growable little-endian byte buffer for the GGUF header (the tensor data is streamed, not built here). */
export class BinaryBuilder {
  private buffer = Buffer.alloc(64 * 1024);
  private length = 0;

  get size(): number {
    return this.length;
  }

  private reserve(bytes: number): number {
    const offset = this.length;
    if (offset + bytes > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(this.buffer.length * 2, offset + bytes));
      this.buffer.copy(grown, 0, 0, offset);
      this.buffer = grown;
    }
    this.length += bytes;
    return offset;
  }

  u8(value: number): void {
    this.buffer.writeUInt8(value, this.reserve(1));
  }
  i8(value: number): void {
    this.buffer.writeInt8(value, this.reserve(1));
  }
  u16(value: number): void {
    this.buffer.writeUInt16LE(value, this.reserve(2));
  }
  i16(value: number): void {
    this.buffer.writeInt16LE(value, this.reserve(2));
  }
  u32(value: number): void {
    this.buffer.writeUInt32LE(value, this.reserve(4));
  }
  i32(value: number): void {
    this.buffer.writeInt32LE(value, this.reserve(4));
  }
  f32(value: number): void {
    this.buffer.writeFloatLE(value, this.reserve(4));
  }
  f64(value: number): void {
    this.buffer.writeDoubleLE(value, this.reserve(8));
  }
  u64(value: bigint | number): void {
    this.buffer.writeBigUInt64LE(BigInt(value), this.reserve(8));
  }
  i64(value: bigint): void {
    this.buffer.writeBigInt64LE(value, this.reserve(8));
  }
  bytes(value: Uint8Array): void {
    this.buffer.set(value, this.reserve(value.length));
  }
  /** GGUF string: u64 byte length, then UTF-8 bytes (no terminator). */
  string(value: string): void {
    const encoded = Buffer.from(value, "utf8");
    this.u64(encoded.length);
    this.bytes(encoded);
  }
  zeros(count: number): void {
    this.buffer.fill(0, this.reserve(count), this.length);
  }

  toBuffer(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
