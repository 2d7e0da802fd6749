// PROTOCOL.md §1.12: the whole listener speaks TLS when cert and key are given.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { DflockdTestServer } from '../../../lib/testing/server/test-server';
import { RawClient, grant } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'tls');
const tlsCert = path.join(FIXTURES, 'server.pem');
const tlsKey = path.join(FIXTURES, 'server-key.pem');
const ca = fs.readFileSync(path.join(FIXTURES, 'ca.pem'));

describe('TLS (§1.12)', () => {
  const fx = useServer({ tlsCert, tlsKey, readTimeout: 0.5 });

  test('a verifying TLS client (CA from the fixtures) speaks the same protocol, TLS 1.3 by default', async () => {
    const c = await RawClient.connect(fx.port, { ca, servername: 'localhost' });
    expect((c.socket as tls.TLSSocket).getProtocol()).toBe('TLSv1.3');
    const { token } = grant(await c.request('l', 'tls-k', '0'));
    expect(await c.request('r', 'tls-k', token)).toBe('ok');
    expect(fx.server.tls).toBe(true);
  });

  test('framing is identical inside TLS: an over-long line gives error, then close', async () => {
    const c = await RawClient.connect(fx.port, { ca, servername: 'localhost' });
    c.send(`l\n${'k'.repeat(257)}\n0\n`);
    expect(await c.line()).toBe('error');
    await c.eof();
  });

  test('the certificate is valid for 127.0.0.1 too', async () => {
    const c = await RawClient.connect(fx.port, { ca });
    expect(await c.request('stats', '', '')).toMatch(/^ok \{/);
  });

  test('TLS 1.2 is accepted, TLS 1.1 is refused', async () => {
    const c = await RawClient.connect(fx.port, { ca, servername: 'localhost', maxVersion: 'TLSv1.2' });
    expect((c.socket as tls.TLSSocket).getProtocol()).toBe('TLSv1.2');
    await expect(
      RawClient.connect(fx.port, { ca, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    ).rejects.toThrow();
  });

  test('a plaintext request to the TLS port gets EOF with zero bytes', async () => {
    const c = await fx.connect();
    c.send('l\nk\n0\n');
    await c.eof();
    expect(c.received).toEqual([]);
  });

  test('a TCP client that never handshakes is closed after the read timeout', async () => {
    const c = await fx.connect();
    const started = Date.now();
    await c.eof(2000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });
});

describe('TLS options', () => {
  test('tlsCert without tlsKey (or the reverse) is refused', () => {
    expect(() => new DflockdTestServer({ tlsCert })).toThrow(/tlsCert and tlsKey must be provided together/);
    expect(() => new DflockdTestServer({ tlsKey })).toThrow(/tlsCert and tlsKey must be provided together/);
  });

  test('an unreadable certificate file makes start() reject, and nothing is left listening', async () => {
    const server = new DflockdTestServer({ port: 0, tlsCert: path.join(FIXTURES, 'missing.pem'), tlsKey });
    await expect(server.start()).rejects.toThrow(/ENOENT/);
    expect(server.listening).toBe(false);
  });

  test('a key that does not match the certificate makes start() reject', async () => {
    const server = new DflockdTestServer({ port: 0, tlsCert: path.join(FIXTURES, 'ca.pem'), tlsKey });
    await expect(server.start()).rejects.toThrow();
  });
});
