// Standard output: one record + LF per incident. Also the renderer behind `replayguard scan --output FORMAT`.
import type { Writable } from 'node:stream';
import type { Incident } from '../../incidents/model.js';
import type { StdoutSinkConfig } from '../config.js';
import { OUTPUT_FORMATS, formatIncident, isOutputFormat } from '../formatters/index.js';
import { allWith, delivered, errorText, type SendResult, type Sink } from './types.js';

export class StdoutSink implements Sink {
  constructor(readonly config: StdoutSinkConfig, private readonly out: Writable = process.stdout) {}

  async send(records: readonly string[]): Promise<SendResult[]> {
    const text = records.map((r) => r + '\n').join('');
    try {
      await new Promise<void>((resolve, reject) => {
        this.out.write(text, (err) => (err ? reject(err) : resolve()));
      });
      return allWith(records.length, delivered);
    } catch (err) {
      return allWith(records.length, { status: 'retry', error: `stdout: ${errorText(err)}` });
    }
  }

  async close(): Promise<void> {}
}

/**
 * `scan --output`: incident → line. Without a format, the incident's own JSON (what scan always wrote); with one,
 * that formatter's record. Throws at once on an unknown format, before any work is done.
 */
export function stdoutRenderer(format: string | undefined): (incident: Incident) => string {
  if (format === undefined) return (incident) => JSON.stringify(incident) + '\n';
  if (!isOutputFormat(format)) throw new Error(`--output must be one of ${OUTPUT_FORMATS.join(', ')}; got ${JSON.stringify(format)}`);
  // One options object for the whole run (formatters cache their resolution per object).
  const opts = {};
  return (incident) => formatIncident(format, incident, opts) + '\n';
}
