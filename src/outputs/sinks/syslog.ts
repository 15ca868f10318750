// Syslog transports: UDP (RFC 5426, one record per datagram), TCP with RFC 6587 octet counting, TLS (RFC 5425,
// octet counting too). Octet counting on TCP because a record may contain anything the line rule left in it and
// LF framing would split it; the count is in UTF-8 bytes (octetFrame).
//
// What "delivered" means here is weaker than over HTTP, and the docs say so: syslog has no acknowledgement. A
// TCP/TLS record is delivered once the kernel accepted it on a live connection; a UDP record once it left. A
// connection that died silently can lose what was written just before we notice; everything after reconnects.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIP, isIPv6, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { SyslogSinkConfig } from '../config.js';
import { octetFrame } from '../formatters/index.js';
import { allWith, delivered, errorText, type SendResult, type Sink } from './types.js';

export class SyslogSink implements Sink {
  private udp?: UdpSocket;
  private udpReady?: Promise<UdpSocket>;
  private stream?: Socket;
  private connecting?: Promise<Socket>;
  private closed = false;

  constructor(readonly config: SyslogSinkConfig) {}

  async send(records: readonly string[]): Promise<SendResult[]> {
    if (this.closed) return allWith(records.length, { status: 'retry', error: 'sink closed' });
    return this.config.transport === 'udp' ? this.sendUdp(records) : this.sendStream(records);
  }

  // --- UDP --------------------------------------------------------------------------------------------

  private udpSocket(): Promise<UdpSocket> {
    if (this.udpReady) return this.udpReady;
    const { host, port } = this.config;
    this.udpReady = new Promise<UdpSocket>((resolve, reject) => {
      const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      // A connected socket reports ICMP port-unreachable as an error on a later send, so a receiver that is
      // down shows up as retries instead of silence (on the same host at least).
      socket.once('error', (err) => {
        this.udpReady = undefined;
        socket.close();
        reject(err);
      });
      socket.connect(port, host, () => {
        socket.removeAllListeners('error');
        socket.on('error', () => {
          this.udpReady = undefined;
          socket.close();
        });
        this.udp = socket;
        resolve(socket);
      });
    });
    this.udpReady.catch(() => undefined);
    return this.udpReady;
  }

  private async sendUdp(records: readonly string[]): Promise<SendResult[]> {
    const results: SendResult[] = [];
    for (const record of records) {
      const buf = Buffer.from(record, 'utf8');
      if (this.config.maxBytes !== undefined && buf.length > this.config.maxBytes) {
        // render() fits records; this only trips if a format cannot be fitted, and then the cap is the rule.
        results.push({ status: 'dead', error: `record of ${buf.length} bytes exceeds the UDP cap of ${this.config.maxBytes}` });
        continue;
      }
      try {
        const socket = await this.udpSocket();
        await new Promise<void>((resolve, reject) => socket.send(buf, (err) => (err ? reject(err) : resolve())));
        results.push(delivered);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (this.udp && e.code !== 'EMSGSIZE') {
          this.udp.close();
          this.udp = undefined;
          this.udpReady = undefined;
        }
        results.push(e.code === 'EMSGSIZE' ? { status: 'dead', error: `UDP: ${errorText(err)}` } : { status: 'retry', error: `UDP: ${errorText(err)}` });
      }
    }
    return results;
  }

  // --- TCP / TLS --------------------------------------------------------------------------------------

  private connect(): Promise<Socket> {
    if (this.stream && !this.stream.destroyed && this.stream.writable) return Promise.resolve(this.stream);
    if (this.connecting) return this.connecting;
    const { host, port, tls, connectTimeoutMs, transport } = this.config;
    const servername = tls?.servername ?? (isIP(host) === 0 ? host : undefined);
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const readyEvent = transport === 'tls' ? 'secureConnect' : 'connect';
      const socket: Socket = transport === 'tls'
        ? tlsConnect({
          host, port,
          // RFC 5425 as updated by the secure-syslog cipher-suite update: TLS 1.2 or later.
          minVersion: 'TLSv1.2',
          rejectUnauthorized: tls?.rejectUnauthorized ?? true,
          // SNI only for names: RFC 6066 forbids IP literals in server_name.
          ...(servername !== undefined ? { servername } : {}),
          ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
          ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
          ...(tls?.key !== undefined ? { key: tls.key } : {}),
        })
        : netConnect({ host, port });
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no connection within ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), connectTimeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.setKeepAlive(true, 30_000);
        socket.setNoDelay(true);
        // Receivers do not talk back on syslog; read and drop anything so the socket notices a close.
        socket.on('data', () => undefined);
        socket.on('error', () => socket.destroy());
        socket.on('close', () => {
          if (this.stream === socket) this.stream = undefined;
        });
        socket.on('end', () => socket.destroy());
        this.stream = socket;
        resolve(socket);
      });
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async sendStream(records: readonly string[]): Promise<SendResult[]> {
    const payload = Buffer.from(records.map(octetFrame).join(''), 'utf8');
    try {
      const socket = await this.connect();
      await new Promise<void>((resolve, reject) => {
        const onClose = () => reject(Object.assign(new Error('connection closed while writing'), { code: 'ECONNRESET' }));
        socket.once('close', onClose);
        socket.write(payload, (err) => {
          socket.off('close', onClose);
          if (err) reject(err);
          else resolve();
        });
      });
      return allWith(records.length, delivered);
    } catch (err) {
      this.stream?.destroy();
      this.stream = undefined;
      return allWith(records.length, { status: 'retry', error: `syslog ${this.config.transport}: ${errorText(err)}` });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.udp) this.udp.close();
    this.udp = undefined;
    const s = this.stream;
    this.stream = undefined;
    if (s && !s.destroyed) {
      // end() sends TLS close_notify (RFC 5425 asks for it) after flushing what is buffered.
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.destroy();
          resolve();
        }, 2000);
        s.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        s.end();
      });
    }
  }
}
