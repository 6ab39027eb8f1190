import type { FileHandle } from "node:fs/promises";

/** Thrown when a read would pass the end of the file; the GGUF reader turns it into MODEL_TRUNCATED. */
export class EndOfFileError extends Error {
  constructor(
    readonly neededBytes: number,
    readonly fileSize: number,
    readonly what: string,
  ) {
    super(`reading ${what} needs ${neededBytes} bytes but the file has ${fileSize}`);
  }
}

const WINDOW_BYTES = 1024 * 1024;

/** Sequential little-endian reads through a window, never past the file's end. */
export class BoundedFileReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  private position = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly fileSize: number,
  ) {}

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.fileSize - this.position;
  }

  /** Returns a view of the next `length` bytes (valid until the next read) and advances past them. */
  async take(length: number, what: string): Promise<Buffer> {
    const end = this.position + length;
    if (end > this.fileSize) throw new EndOfFileError(end, this.fileSize, what);
    const windowEnd = this.windowStart + this.window.length;
    if (this.position < this.windowStart || end > windowEnd) {
      const size = Math.min(Math.max(length, WINDOW_BYTES), this.fileSize - this.position);
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await this.handle.read(buffer, 0, size, this.position);
      // The file shrank after we measured it.
      if (bytesRead < length) throw new EndOfFileError(end, this.position + bytesRead, what);
      this.window = buffer.subarray(0, bytesRead);
      this.windowStart = this.position;
    }
    const start = this.position - this.windowStart;
    this.position = end;
    return this.window.subarray(start, start + length);
  }

  async u8(what: string): Promise<number> {
    return (await this.take(1, what)).readUInt8(0);
  }
  async u32(what: string): Promise<number> {
    return (await this.take(4, what)).readUInt32LE(0);
  }
  async u64(what: string): Promise<bigint> {
    return (await this.take(8, what)).readBigUInt64LE(0);
  }
}
