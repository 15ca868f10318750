// What every sink promises. A sink sends a batch of rendered records and answers per record, because receivers
// answer per record (Elasticsearch _bulk items, a HEC batch's invalid-event-number): one bad record must not
// sink its neighbours, and a record is only counted delivered when the receiver said so.
import type { SinkConfig } from '../config.js';

export type SendResult =
  | { status: 'delivered'; note?: string }
  /** worth trying again later: network errors, timeouts, 429/5xx */
  | { status: 'retry'; error: string; retryAfterMs?: number }
  /** the receiver refused this record for good (a mapping error, a bad token): dead-letter it */
  | { status: 'dead'; error: string };

export interface Sink {
  readonly config: SinkConfig;
  /** one result per record, in order; never throws (a throw is read as "retry every record") */
  send(records: readonly string[]): Promise<SendResult[]>;
  close(): Promise<void>;
}

export const delivered: SendResult = { status: 'delivered' };

export function allWith(n: number, result: SendResult): SendResult[] {
  return Array.from({ length: n }, () => result);
}

export function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code && e.message && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e?.message ?? String(err);
}
