// Copies the non-TypeScript files the compiled code loads at run time (Lua scripts) from src/ to dist/.
import { cpSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

for (const file of walk('src').filter((f) => f.endsWith('.lua'))) {
  const target = join('dist', relative('src', file));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(file, target);
}
