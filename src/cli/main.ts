#!/usr/bin/env node
// replayguard command line: serve | worker | scan | rules lint
import { parseArgs } from 'node:util';
import { loadEnv } from '../config/env.js';
import { formatRuleError, loadRuleDir } from '../rules/loader.js';
import { runScan } from './scan.js';
import { startService } from './serve.js';

const USAGE = `usage:
  replayguard serve [--no-worker]        run the API (and a worker); embedded when REDIS_URL is unset
  replayguard worker                     run ingest workers only (needs REDIS_URL)
  replayguard scan [options] FILE... | - replay canonical events (JSON lines) through the pipeline
      --rules DIR          rule folder (default: $RG_RULES_DIR or rules/)
      --store memory|redis state store (default memory; redis uses REDIS_URL)
      --fail-on-incident   exit 1 when any incident is found
  replayguard rules lint [DIR]           validate rule files (file:line:column: field: message)
`;

function installSignals(close: () => Promise<void>): void {
  let closing = false;
  const onSignal = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`replayguard: ${signal}, shutting down\n`);
    const deadline = setTimeout(() => process.exit(1), 30_000);
    deadline.unref();
    close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { 'no-worker': { type: 'boolean', default: false } } });
      const service = await startService({ api: true, worker: !values['no-worker'] });
      installSignals(() => service.close());
      process.on('SIGHUP', () => void service.runtime.reloadRules());
      return -1;
    }
    case 'worker': {
      if (!loadEnv().REDIS_URL) throw new Error('replayguard worker needs REDIS_URL');
      const service = await startService({ api: false, worker: true });
      installSignals(() => service.close());
      process.on('SIGHUP', () => void service.runtime.reloadRules());
      return -1;
    }
    case 'scan': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { rules: { type: 'string' }, store: { type: 'string', default: 'memory' }, 'fail-on-incident': { type: 'boolean', default: false } },
      });
      if (positionals.length === 0) {
        process.stderr.write(USAGE);
        return 2;
      }
      if (values.store !== 'memory' && values.store !== 'redis') throw new Error('--store must be memory or redis');
      const { exitCode } = await runScan({
        files: positionals, store: values.store, failOnIncident: values['fail-on-incident'] ?? false,
        ...(values.rules !== undefined ? { rulesDir: values.rules } : {}),
      });
      return exitCode;
    }
    case 'rules': {
      const [sub, dir] = rest;
      if (sub !== 'lint') {
        process.stderr.write(USAGE);
        return 2;
      }
      const loaded = await loadRuleDir(dir ?? loadEnv().RG_RULES_DIR);
      for (const e of loaded.errors) process.stdout.write(formatRuleError(e) + '\n');
      process.stdout.write(`${loaded.rules.length} rules valid, ${loaded.errors.length} errors\n`);
      return loaded.errors.length > 0 ? 1 : 0;
    }
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command: ${command}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`replayguard: ${err.message}\n`);
    process.exitCode = 2;
  },
);
