import * as fs from 'node:fs';
import * as path from 'node:path';

// The README quotes real files: a guide whose heading links an example shows lines of that file,
// not a lookalike that could drift (the files themselves are type-checked by the build and run by
// spec/examples).

const ROOT = path.join(__dirname, '..', '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** Each heading that links `examples/…`, with the first ts block under it (before the next heading). */
function quotedExamples(): Array<{ heading: string; file: string; block: string[] }> {
  const found: Array<{ heading: string; file: string; block: string[] }> = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^#{2,4} .*\]\((examples\/[\w/.-]+\.ts)\)\)?\s*$/.exec(lines[i]!);
    if (m === null) continue;
    for (let j = i + 1; j < lines.length && !/^#{1,4} /.test(lines[j]!); j++) {
      if (lines[j] !== '```ts') continue;
      const block: string[] = [];
      for (let k = j + 1; k < lines.length && lines[k] !== '```'; k++) block.push(lines[k]!);
      found.push({ heading: lines[i]!, file: m[1]!, block });
      break;
    }
  }
  return found;
}

const quoted = quotedExamples();

test('the README quotes at least the quick starts and the testing guide', () => {
  expect(quoted.map((q) => q.file)).toEqual(expect.arrayContaining(['examples/quick-start-rx.ts', 'examples/quick-start-promise.ts', 'examples/testing.ts']));
});

test.each(quoted.map((q) => [q.heading, q] as const))('%s: every line shown is a line of the file', (_heading, q) => {
  const file = fs.readFileSync(path.join(ROOT, q.file), 'utf8').split('\n').map((l) => l.trim());
  const shown = q.block.map((l) => l.trim()).filter((l) => l !== '' && !/^\/\/ …/.test(l));
  expect(shown.filter((line) => !file.includes(line))).toEqual([]);
});
