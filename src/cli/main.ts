#!/usr/bin/env node
// replayguard command line: serve | worker | scan | rules lint
import { parseArgs } from 'node:util';
import { loadEnv } from '../config/env.js';
import { formatRuleError, loadRuleDir } from '../rules/loader.js';
import { formatReport, runRuleTests } from '../rules/testing.js';
import { adapterOptionsFromFlags, formatFromFlag, INPUT_FLAGS, INPUT_FLAGS_USAGE } from '../ingest/options.js';
import { runDeliveriesCommand } from '../queue/delivery.js';
import { runScan } from './scan.js';
import { runTailCommand, TAIL_USAGE } from './tail.js';
import { RESPONDER_USAGE, runIncidentsCommand, runRevokeCommand } from './responder.js';
import { startService } from './serve.js';

const USAGE = `usage:
  replayguard serve [--no-worker]        run the API (and a worker); embedded when REDIS_URL is unset
  replayguard worker                     run ingest workers only (needs REDIS_URL)
  replayguard scan [options] FILE... | - replay logs (JSON array, NDJSON, or gzip of either) through the pipeline
${INPUT_FLAGS_USAGE}
      --rules DIR          rule folder (default: $RG_RULES_DIR or rules/)
      --store memory|redis state store (default memory; redis uses REDIS_URL)
      --fail-on-incident   exit 1 when any incident is found
      --output FORMAT      incidents as cef|leef|leef2|ecs|ocsf|hec|syslog|bulk|jsonl (default: incident JSON)
      --hold-incidents     write every incident at the end (default: each as it closes; same output, less memory)
                           order: by the event time each closes at (last hit + RG_SESSION_TTL_SECONDS + the
                           rule's cooldown), then creation; with --store redis, first creation or update
${RESPONDER_USAGE}${TAIL_USAGE}  replayguard rules lint [DIR]           validate rule files (file:line:column: field: message)
  replayguard rules test [DIR]           run every rule's test cases (<rule>.test.yaml) through the pipeline
  replayguard deliveries list|retry [--sink X] [--id J] [--limit N]
                                         list or re-drive dead-lettered deliveries (needs REDIS_URL)
`;

function installSignals(close: () => Promise<void>): void {
  let closing = false;
  const onSignal = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`replayguard: ${signal}, shutting down\n`);
    const deadline = setTimeout(() => process.exit(1), loadEnv().RG_SHUTDOWN_DEADLINE_MS);
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
        options: { ...INPUT_FLAGS, rules: { type: 'string' }, store: { type: 'string', default: 'memory' }, 'fail-on-incident': { type: 'boolean', default: false }, output: { type: 'string' }, 'hold-incidents': { type: 'boolean', default: false } },
      });
      if (positionals.length === 0) {
        process.stderr.write(USAGE);
        return 2;
      }
      if (values.store !== 'memory' && values.store !== 'redis') throw new Error('--store must be memory or redis');
      const { exitCode } = await runScan({
        files: positionals, store: values.store, failOnIncident: values['fail-on-incident'] ?? false,
        format: formatFromFlag(values.format), adapterOptions: adapterOptionsFromFlags(values),
        ...(values.rules !== undefined ? { rulesDir: values.rules } : {}), output: values.output,
        releaseIncidents: !values['hold-incidents'], keepIncidents: false,
      });
      return exitCode;
    }
    case 'revoke':
      return runRevokeCommand(rest);
    case 'incidents':
      return runIncidentsCommand(rest);
    case 'tail':
      return runTailCommand(rest);
    case 'deliveries': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { sink: { type: 'string' }, id: { type: 'string' }, limit: { type: 'string' } } });
      const sub = positionals[0];
      if ((sub !== 'list' && sub !== 'retry') || positionals.length > 1) {
        process.stderr.write(USAGE);
        return 2;
      }
      return runDeliveriesCommand({ sub, sink: values.sink, id: values.id, limit: values.limit === undefined ? undefined : Number(values.limit) });
    }
    case 'rules': {
      const [sub, dir] = rest;
      if (sub === 'test') {
        const report = await runRuleTests(dir ?? loadEnv().RG_RULES_DIR);
        process.stdout.write(formatReport(report) + '\n');
        return report.errors.length > 0 || report.untested.length > 0 || report.results.some((r) => !r.passed) ? 1 : 0;
      }
      if (sub !== 'lint') {
        process.stderr.write(USAGE);
        return 2;
      }
      const loaded = await loadRuleDir(dir ?? loadEnv().RG_RULES_DIR);
      for (const e of loaded.errors) process.stdout.write(formatRuleError(e) + '\n');
      for (const w of loaded.warnings) process.stdout.write(`warning: ${formatRuleError(w)}\n`);
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
