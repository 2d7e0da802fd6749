// `dflockd-rx bench` (the user's load tool), spawned as a real process from the build. The
// benchmark harness behind `npm run bench` is tested in spec/tools/bench.spec.ts.
import { cli, useCliProcesses } from '../helpers/cli.js';
import { type TestServer, freePort, startServer } from '../helpers/server.js';

useCliProcesses();

describe('dflockd-rx bench', () => {
  let server: TestServer;
  let servers: string;

  beforeAll(async () => {
    server = await startServer();
    servers = `127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop());

  test('--count N runs exactly N acquire/release cycles over the keys and reports JSON figures', async () => {
    const run = cli(['bench', '--servers', servers, '--count', '120', '--workers', '4', '--keys', '3', '--prefix', 'count-', '--json']);
    const { code } = await run.exit;
    expect(run.out.stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(run.out.stdout) as Record<string, unknown> & { acquire: Record<string, number>; cycle: Record<string, number> };
    expect(result).toMatchObject({ servers: [servers], workers: 4, keys: 3, count: 120, cycles: 120, timeouts: 0, error: null });
    for (const s of [result.acquire, result.cycle]) {
      expect(s['count']).toBe(120);
      expect(s['p50Ms']).toBeGreaterThan(0);
      expect(s['p50Ms']).toBeLessThanOrEqual(s['p90Ms']!);
      expect(s['p90Ms']).toBeLessThanOrEqual(s['p99Ms']!);
    }
    expect(result['cyclesPerS']).toBeGreaterThan(0);
    // Every key was used and released: the server holds none of them now.
    const stats = await server.stats();
    expect(stats.locks.filter((l) => l.key.startsWith('count-'))).toEqual([]);
    expect(stats.idle_locks.map((l) => l.key).filter((k) => k.startsWith('count-')).sort()).toEqual(['count-0', 'count-1', 'count-2']);
  });

  test('--seconds S stops by itself and prints the latency summary table', async () => {
    const run = cli(['bench', '--servers', servers, '--seconds', '0.5', '--workers', '2', '--keys', '2']);
    const { code } = await run.exit;
    expect(code).toBe(0);
    expect(run.out.stdout).toMatch(/^\d+ acquire\/release cycles in 0\.\d s against 127\.0\.0\.1:\d+ \(2 workers, 2 keys\)\nthroughput: \d+ cycles\/s\n\s+p50\s+p90\s+p99\s+max\n  acquire .* ms\n  release .* ms\n  cycle .* ms\n$/);
    // Not a terminal: no progress bar.
    expect(run.out.stderr).toBe('');
  });

  test('a server that cannot be reached stops the run at once with 69', async () => {
    const port = await freePort();
    const run = cli(['bench', '--servers', `127.0.0.1:${port}`, '--seconds', '30']);
    const { code } = await run.exit;
    expect(code).toBe(69);
    expect(run.out.stderr).toMatch(/^dflockd-rx bench: stopped: .*127\.0\.0\.1/m);
  });

  test.each([
    [['--count', '10', '--seconds', '1'], /--count: give --count or --seconds, not both/],
    [['--workers', '0'], /--workers: expected a whole number of workers ≥ 1, got "0"/],
    [['--keys', '2.5'], /--keys: expected a whole number of keys ≥ 1, got "2\.5"/],
    [['--lease', 'soon'], /--lease: expected a whole number of seconds ≥ 1, got "soon"/],
    [['--prefix', 'a b'], /--prefix: a key prefix without spaces/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--quick'], /Unknown option '--quick'/],
  ])('usage error %j exits 64 with one line naming the flag', async (args, message) => {
    const run = cli(['bench', '--servers', servers, ...args]);
    const { code } = await run.exit;
    expect(code).toBe(64);
    expect(run.out.stderr).toMatch(message);
    expect(run.out.stderr.split('\n')[0]).toMatch(/^dflockd-rx bench: /);
    expect(run.out.stdout).toBe('');
  });

  test('--help describes the flags and says no server is started', async () => {
    const run = cli(['bench', '--help']);
    expect((await run.exit).code).toBe(0);
    for (const flag of ['--keys', '--workers', '--seconds', '--count', '--lease', '--servers']) expect(run.out.stdout).toContain(flag);
    expect(run.out.stdout).toContain('Starts no server');
  });
});
