// Turns a request body into a list of candidate events: a JSON array, a single JSON object, or NDJSON.
// A bad NDJSON line is one rejected event, not a failed request.
import type { Rejection } from '../events/normalize.js';
import { ApiError } from './errors.js';

export interface ParsedBody {
  /** candidates by their index in the body; undefined where the line itself was unreadable */
  items: unknown[];
  rejected: Rejection[];
}

export function parseEventsBody(raw: string, contentType: string, maxEvents: number): ParsedBody {
  const isNdjson = /^application\/(x-)?ndjson|^application\/jsonl|^application\/x-jsonlines/i.test(contentType);
  if (isNdjson) {
    const items: unknown[] = [];
    const rejected: Rejection[] = [];
    let index = 0;
    for (const line of raw.split('\n')) {
      const text = line.trim();
      if (text === '') continue;
      if (index >= maxEvents) throw new ApiError(413, 'TOO_MANY_EVENTS', `a request may carry at most ${maxEvents} events`);
      try {
        items.push(JSON.parse(text));
      } catch (err) {
        items.push(undefined);
        rejected.push({ index, code: 'invalid_json', message: `line is not JSON: ${(err as Error).message}` });
      }
      index++;
    }
    return { items, rejected };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ApiError(400, 'INVALID_JSON', `body is not JSON: ${(err as Error).message}`);
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length > maxEvents) throw new ApiError(413, 'TOO_MANY_EVENTS', `a request may carry at most ${maxEvents} events`);
  return { items, rejected: [] };
}
