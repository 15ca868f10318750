// File sink: records + LF (a valid framing for every format, see docs/outputs.md), with size-based rotation:
// `path` → `path.1` → … → `path.<keep>`, the oldest dropped. A record is never split across files, and a file
// only exceeds max_bytes when a single record is larger than it.
//
// One writer per file: writes and rotations are serialised inside this process. Two processes writing the same
// path would rotate under each other, so in service mode each host's delivery worker should use its own path.
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileSinkConfig } from '../config.js';
import { allWith, delivered, errorText, type SendResult, type Sink } from './types.js';

export class FileSink implements Sink {
  private handle?: FileHandle;
  private size = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly config: FileSinkConfig) {}

  send(records: readonly string[]): Promise<SendResult[]> {
    const run = this.chain.then(() => this.write(records));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async ensureOpen(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    await mkdir(dirname(this.config.path), { recursive: true });
    this.handle = await open(this.config.path, 'a', 0o640);
    this.size = (await this.handle.stat()).size;
    return this.handle;
  }

  private async rotate(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const { path, keep } = this.config;
    await rm(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      await rename(`${path}.${i}`, `${path}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await rename(path, `${path}.1`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  private async write(records: readonly string[]): Promise<SendResult[]> {
    const results: SendResult[] = [];
    let i = 0;
    try {
      while (i < records.length) {
        let handle = await this.ensureOpen();
        // As many whole records as fit in the current file.
        let chunk = '';
        let bytes = 0;
        const start = i;
        while (i < records.length) {
          const line = records[i]! + '\n';
          const n = Buffer.byteLength(line);
          if (this.size + bytes + n > this.config.maxBytes && (this.size + bytes > 0)) break;
          chunk += line;
          bytes += n;
          i++;
        }
        if (i === start) {
          await this.rotate();
          continue;
        }
        handle = await this.ensureOpen();
        await handle.appendFile(chunk, 'utf8');
        if (this.config.fsync) await handle.datasync();
        this.size += bytes;
        for (let j = start; j < i; j++) results.push(delivered);
      }
      return results;
    } catch (err) {
      // Whatever was not confirmed is retried; a disk that is full or read-only may come back.
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      return [...results, ...allWith(records.length - results.length, { status: 'retry', error: `file ${this.config.path}: ${errorText(err)}` })];
    }
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle?.close();
    this.handle = undefined;
  }
}

