import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as api from '../../lib/index.js';
import * as testing from '../../lib/testing/index.js';

const root = path.join(__dirname, '..', '..');
const node = (args: string[]): string => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20_000 });

// The curated public surface: adding or removing a name is a decision, made here.
const PUBLIC_VALUES = [
  'AcquireTimeoutError', 'AlreadyEnqueuedError', 'AuthError', 'CLIENT_DEFAULTS', 'ConnectTimeoutError', 'Connection',
  'ConnectionError', 'DflockdClient', 'DflockdError', 'DistributedLock', 'DistributedSemaphore', 'DrainingError',
  'InvalidArgumentError', 'InvalidStateError', 'LOCK_DEFAULTS', 'LeaseExpiredError', 'LeaseLostError', 'LimitMismatchError',
  'LineDecoder', 'MaxLocksError', 'MaxWaitersError', 'NotEnqueuedError', 'NotLeaderError', 'ProtocolError', 'ServerError',
  'WIRE_VERBS', 'auth', 'connect', 'connectLineSocket', 'encodeRequest', 'enqueue', 'fenceOf', 'lock', 'monotonicScheduler', 'parseReply', 'release', 'renew',
  'semEnqueue', 'semLock', 'semRelease', 'semRenew', 'semWait', 'stableHashShard', 'stats', 'wait', 'whileHeld',
].sort();

describe('the public surface', () => {
  test('dflockd-rx exports exactly the curated names', () => {
    expect(Object.keys(api).sort()).toEqual(PUBLIC_VALUES);
  });

  test('dflockd-rx/testing exports the test server and the fault proxy', () => {
    expect(Object.keys(testing).sort()).toEqual(expect.arrayContaining(['DflockdTestServer', 'FaultProxy']));
  });
});

describe('the built package (npm run build) through its exports map', () => {
  test('require() loads the CommonJS build', () => {
    const out = node(['-e', "const m = require('dflockd-rx'); const t = require('dflockd-rx/testing'); console.log(typeof m.DflockdClient, typeof m.DistributedLock, typeof t.DflockdTestServer, require.resolve('dflockd-rx'))"]);
    expect(out.trim()).toMatch(/^function function function .*dist\/cjs\/index\.js$/);
  });

  test('import() loads the ESM build', () => {
    const out = node(['--input-type=module', '-e', "const m = await import('dflockd-rx'); const t = await import('dflockd-rx/testing'); console.log(typeof m.DflockdClient, typeof m.stableHashShard, typeof t.FaultProxy, import.meta.resolve('dflockd-rx'))"]);
    expect(out.trim()).toMatch(/^function function function .*dist\/esm\/index\.mjs$/);
  });

  test('the ESM and CJS builds agree on behaviour (stableHashShard vectors)', () => {
    const cjs = node(['-e', "const { stableHashShard: s } = require('dflockd-rx'); console.log(['my-resource','user:42','orders'].map((k) => s(k, 3)).join(','))"]);
    const esm = node(['--input-type=module', '-e', "const { stableHashShard: s } = await import('dflockd-rx'); console.log(['my-resource','user:42','orders'].map((k) => s(k, 3)).join(','))"]);
    expect(cjs.trim()).toBe('0,1,2');
    expect(esm.trim()).toBe('0,1,2');
  });
});
