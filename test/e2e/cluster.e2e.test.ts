// The same service on a local 3-master Redis Cluster: every script call stays in one slot (hash-tagged
// keys), the ingest partitions and the delivery/revocation queues are hash-tagged, and the same incidents
// come out as from the embedded pipeline.
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable, Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScan } from '../../src/cli/scan.js';
import { startService, type RunningService } from '../../src/cli/serve.js';
import type { Incident } from '../../src/incidents/model.js';
import { startRedisCluster, type RedisClusterHandle } from '../helpers/redis-server.js';
import { replayStory } from '../fixtures/replay-events.js';

const TOKEN = 'cluster-token-0123456789abcd';
const KEY = 'cluster-session-key-0123456789abcdef012345';
let cluster: RedisClusterHandle;
let service: RunningService;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  service = await startService(
    { api: true, worker: true, env: { REDIS_CLUSTER_NODES: cluster.nodes, RG_SESSION_KEY: KEY, RG_API_TOKENS: TOKEN, PORT: '0', RG_RULES_DIR: 'test/fixtures/e2e-rules', RG_INGEST_PARTITIONS: '6' } },
    pino({ level: 'silent' }),
  );
}, 60_000);

afterAll(async () => {
  await service?.close();
  await cluster?.stop();
});

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('Redis Cluster', () => {
  it('processes events and gives the same incidents as the embedded pipeline', async () => {
    const res = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(replayStory()) });
    expect(res.status).toBe(202);
    let items: Incident[] = [];
    for (let i = 0; i < 200 && items.length < 2; i++) {
      items = ((await (await fetch(`${service.url}/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { items: Incident[] }).items;
      if (items.length < 2) await sleep(50);
    }
    await sleep(300);
    items = ((await (await fetch(`${service.url}/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { items: Incident[] }).items;
    const stdout = new Capture();
    await runScan({ files: ['-'], store: 'memory', failOnIncident: false, stdin: Readable.from([replayStory().map((e) => JSON.stringify(e)).join('\n')]), stdout, stderr: new Capture(), env: { RG_SESSION_KEY: KEY, RG_RULES_DIR: 'test/fixtures/e2e-rules', RG_LOG_LEVEL: 'silent' } });
    const scanned = stdout.text.trim().split('\n').map((l) => JSON.parse(l) as Incident);
    const pick = (i: Incident) => ({ id: i.id, rule: i.rule.id, session: i.session, count: i.count, event_ids: i.event_ids, evidence: i.evidence });
    const sort = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(items.map(pick).sort(sort)).toEqual(scanned.map(pick).sort(sort));
    expect(items).toHaveLength(2);
  });

  it('answers readiness with the cluster reachable', async () => {
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
