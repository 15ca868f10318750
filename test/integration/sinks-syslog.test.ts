// Syslog sink against loopback receivers: TCP with RFC 6587 octet counting (de-framed and parsed as RFC 5424
// by the test's own parser), reconnection, UDP with a size cap, and TLS with a self-signed certificate made by
// openssl for the test.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { Metrics } from '../../src/observability/metrics.js';
import { parseSinksText } from '../../src/outputs/config.js';
import { createEmitter, type Emitter } from '../../src/outputs/emitter.js';
import { freePort } from '../helpers/redis-server.js';
import {
  OPENSSL,
  makeIncident,
  parse5424,
  selfSignedCert,
  startTcpSyslogReceiver,
  startTlsSyslogReceiver,
  startUdpReceiver,
  waitFor,
} from './sinks-receivers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function start(sink: string, retry = '{ attempts: 20, base_delay_ms: 10, max_delay_ms: 100 }'): Promise<{ emitter: Emitter; metrics: Metrics }> {
  const yaml = `sinks:\n  - name: syslog\n    retry: ${retry}\n${sink.replace(/^/gm, '    ')}\n`;
  const config = parseSinksText(yaml, 'sinks.yaml', { env: {}, baseDir: '/', hostname: 'detector01' });
  const metrics = new Metrics();
  const emitter = await createEmitter({ env: loadEnv({}), logger: pino({ level: 'silent' }), metrics, worker: true, config });
  cleanups.push(() => emitter.close());
  return { emitter, metrics };
}

async function count(metrics: Metrics, outcome: string): Promise<number> {
  return (await metrics.deliveries.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

const RULE = 'session-multi-network-multi-device';
const param = (m: ReturnType<typeof parse5424>, name: string) => m.sd[0]?.params.find(([k]) => k === name)?.[1];

describe('syslog sink over TCP (RFC 6587 octet counting)', () => {
  it('frames every record by its byte count; the receiver parses valid RFC 5424 with the incident in the SD', async () => {
    const rx = await startTcpSyslogReceiver();
    cleanups.push(() => rx.close());
    const { emitter, metrics } = await start(`type: syslog\ntransport: tcp\nhost: 127.0.0.1\nport: ${rx.port}`);
    for (let i = 1; i <= 3; i++) emitter.onIncident({ incident: makeIncident(i, { user: `ünïcødé-${i}@example.com` }), outcome: 'created' });
    await waitFor(() => rx.messages.length === 3, 'three syslog messages');
    const parsed = rx.messages.map(parse5424);
    expect(parsed.map((m) => param(m, 'incident'))).toEqual([1, 2, 3].map((i) => makeIncident(i).id));
    const m = parsed[0]!;
    expect(m).toMatchObject({ pri: 16 * 8 + 3, version: 1, timestamp: '2026-11-23T12:00:01.000Z', hostname: 'detector01', appName: 'replayguard', msgId: RULE.slice(0, 32), bom: true });
    expect(m.sd[0]!.id).toBe('replayguard@32473');
    expect(param(m, 'user')).toBe('ünïcødé-1@example.com');
    expect(m.msg).toBe('Session replayed from RU (198.51.100.23) — incident 1 | a=b \\ "q" ]');
    expect(await count(metrics, 'delivered')).toBe(3);
  });

  it('carries CEF as MSG-ANY under an RFC 5424 header', async () => {
    const rx = await startTcpSyslogReceiver();
    cleanups.push(() => rx.close());
    const { emitter } = await start(`type: syslog\ntransport: tcp\nhost: 127.0.0.1\nport: ${rx.port}\nformat: cef`);
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await waitFor(() => rx.messages.length === 1, 'one message');
    const m = parse5424(rx.messages[0]!);
    expect(m.sd).toEqual([]);
    expect(m.bom).toBe(false);
    expect(m.msg).toMatch(/^CEF:0\|replayguard\|replayguard\|unknown\|session-multi-network-multi-device\|/);
  });

  it('reconnects after the receiver drops the connection, and after the receiver was down', async () => {
    const port = await freePort();
    let rx = await startTcpSyslogReceiver(port);
    cleanups.push(() => rx.close());
    const { emitter, metrics } = await start(`type: syslog\ntransport: tcp\nhost: 127.0.0.1\nport: ${port}`);
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await waitFor(() => rx.messages.length === 1, 'first message');

    rx.dropConnections();
    await waitFor(() => rx.sockets.size === 0, 'connection dropped');
    await sleep(100); // let the sender see the FIN; a write racing it is the documented loss window of syslog over TCP
    emitter.onIncident({ incident: makeIncident(2), outcome: 'created' });
    await waitFor(() => rx.messages.length === 2, 'message over a new connection');

    await rx.close();
    emitter.onIncident({ incident: makeIncident(3), outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'retried')) >= 2, 'retries while the receiver is down');
    rx = await startTcpSyslogReceiver(port);
    cleanups.push(() => rx.close());
    await waitFor(() => rx.messages.length === 1, 'message after the receiver came back');
    expect(param(parse5424(rx.messages[0]!), 'incident')).toBe(makeIncident(3).id);
    expect(await count(metrics, 'delivered')).toBe(3);
    expect(await emitter.admin.listDead()).toEqual([]);
  });
});

describe('syslog sink over UDP (RFC 5426)', () => {
  it('sends one record per datagram, fitted under the cap without breaking the header or the SD', async () => {
    const rx = await startUdpReceiver();
    cleanups.push(() => rx.close());
    const { emitter } = await start(`type: syslog\ntransport: udp\nhost: 127.0.0.1\nport: ${rx.port}\nmax_bytes: 480`);
    const long = makeIncident(1, { evidence: { ...makeIncident(1).evidence, reason: 'é'.repeat(3000) } });
    emitter.onIncident({ incident: long, outcome: 'created' });
    emitter.onIncident({ incident: makeIncident(2), outcome: 'created' });
    await waitFor(() => rx.datagrams.length === 2, 'two datagrams');
    for (const d of rx.datagrams) {
      expect(d.length).toBeLessThanOrEqual(480);
      const m = parse5424(d);
      expect(m.msgId).toBe(RULE.slice(0, 32)); // MSGID is at most 32 characters
      expect(m.sd[0]!.id).toBe('replayguard@32473');
      expect(m.msg).not.toContain('\uFFFD'); // never cut inside a UTF-8 sequence
    }
    const ids = rx.datagrams.map((d) => param(parse5424(d), 'incident')).sort();
    expect(ids).toEqual([makeIncident(1).id, makeIncident(2).id]);
  });
});

describe('syslog sink over TLS (RFC 5425)', () => {
  const tls = selfSignedCert();
  const run = tls ? it : it.skip;
  const why = tls ? '' : ` — SKIPPED: ${OPENSSL} not found, so no test certificate can be made`;

  run(`delivers octet-counted records to a receiver whose certificate it checks against ca_file${why}`, async () => {
    const rx = await startTlsSyslogReceiver(tls!.key, tls!.cert);
    cleanups.push(() => rx.close());
    const { emitter, metrics } = await start(`type: syslog\ntransport: tls\nhost: 127.0.0.1\nport: ${rx.port}\ntls: { ca_file: ${join(tls!.dir, 'cert.pem')} }`);
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    emitter.onIncident({ incident: makeIncident(2), outcome: 'updated' });
    await waitFor(() => rx.messages.length === 2, 'two messages over TLS');
    expect(rx.messages.map((m) => param(parse5424(m), 'incident'))).toEqual([makeIncident(1).id, makeIncident(2).id]);
    expect(await count(metrics, 'delivered')).toBe(2);
  });

  run(`refuses a receiver whose certificate it cannot verify${why}`, async () => {
    const rx = await startTlsSyslogReceiver(tls!.key, tls!.cert);
    cleanups.push(() => rx.close());
    const { emitter } = await start(`type: syslog\ntransport: tls\nhost: 127.0.0.1\nport: ${rx.port}`, '{ attempts: 1 }');
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await emitter.idle();
    const dead = await emitter.admin.listDead();
    expect(dead).toEqual([expect.objectContaining({ error: expect.stringMatching(/self[- ]signed|certificate/i) })]);
    expect(rx.messages).toEqual([]);
  });
});
