// `dflockd-rx` spawned as a real process from the build (`npm test` builds first).
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The built CLI entry point. */
export const CLI = path.join(__dirname, '..', '..', 'dist', 'cjs', 'cli', 'main.js');

/** A spawned `dflockd-rx`: its output so far, its exit, and a way to await a line of output. */
export interface Cli {
  readonly child: childProcess.ChildProcessWithoutNullStreams;
  readonly out: { stdout: string; stderr: string };
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout (or stderr) contains `text`; rejects if the process exits first. */
  waitFor(text: string, stream?: 'stdout' | 'stderr'): Promise<void>;
}

const spawned = new Set<Cli>();

/**
 * Registers the hooks of a spec that spawns the CLI: fails fast when the build is missing, and
 * after each test SIGTERMs whatever is still running (a failed test must not leave processes behind;
 * for `run`, the SIGTERM reaches CMD through run's forwarding).
 */
export function useCliProcesses(): void {
  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  });
  afterEach(async () => {
    const running = [...spawned].filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    for (const c of running) c.child.kill('SIGTERM');
    await Promise.all(running.map((c) => c.exit));
    spawned.clear();
  });
}

/** Spawns `dflockd-rx ARGS` with `env` over the environment, minus the developer's own DFLOCKD_* settings. */
export function cli(args: readonly string[], env: Record<string, string> = {}): Cli {
  const base = { ...process.env };
  // The suite must not depend on the developer's own settings.
  delete base['DFLOCKD_SERVERS'];
  delete base['DFLOCKD_AUTH_TOKEN'];
  const child = childProcess.spawn(process.execPath, [CLI, ...args], { env: { ...base, ...env }, stdio: 'pipe' });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const waitFor = (text: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!out[stream].includes(text)) return;
        child[stream].off('data', check);
        resolve();
      };
      child[stream].on('data', check);
      check();
      void exit.then(() => (out[stream].includes(text) ? resolve() : reject(new Error(`exited before printing ${JSON.stringify(text)}; stdout=${out.stdout} stderr=${out.stderr}`))));
    });
  const spawnedCli = { child, out, exit, waitFor };
  spawned.add(spawnedCli);
  return spawnedCli;
}
