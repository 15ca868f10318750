// Reloads rules when their files change. fs.watch fires several events per save (editors write, rename,
// chmod), so changes are debounced into one reload.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';

export function watchRuleDir(dir: string, onChange: () => void, logger: Logger, debounceMs = 250): () => void {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  for (const d of [dir, join(dir, 'lists')]) {
    try {
      const w = watch(d, { persistent: false }, fire);
      w.on('error', (err) => logger.warn({ dir: d, err: err.message }, 'rule folder watch failed; SIGHUP still reloads'));
      watchers.push(w);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ dir: d, err: (err as Error).message }, 'cannot watch rule folder; SIGHUP still reloads');
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
