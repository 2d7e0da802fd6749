import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// `npm run docs` — the command users and contributors run, not a variant of it — must build the
// API reference without a warning (treatWarningsAsErrors): every public symbol documented, every
// {@link} resolvable, nothing referenced that is not exported. Written into a temp dir.
const root = path.join(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let out: string;

beforeAll(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'dflockd-rx-docs-'));
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test('npm run docs exits 0 with no warning and writes the reference', async () => {
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) =>
    execFile(npm, ['run', 'docs', '--', '--out', out], { cwd: root, timeout: 120_000, env: { ...process.env, npm_config_update_notifier: 'false' } }, (error, stdout, stderr) =>
      resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }),
    ),
  );
  expect(output).not.toMatch(/\[(warning|error)\]/);
  expect(code).toBe(0);
  const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  // The README is the front page; its lease diagram stays a mermaid block (GitHub renders it).
  expect(index).toContain('<code class="mermaid">stateDiagram-v2');
  for (const page of ['DflockdClient', 'DistributedLock', 'DflockdTestServer']) {
    expect(fs.readdirSync(out, { recursive: true }).some((f) => String(f).endsWith(`${page}.html`))).toBe(true);
  }
}, 150_000);

test('the README keeps its ```mermaid fence', () => {
  expect(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).toMatch(/^```mermaid\nstateDiagram-v2/m);
});
