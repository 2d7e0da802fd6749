/**
 * The package version for `--version`, read from package.json at run time so it can never
 * drift from what npm installed.
 *
 * @module
 */

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The `version` of the dflockd-rx package.json above the running script, or `'unknown'`.
 *
 * @example
 * ```ts
 * process.stdout.write(`${packageVersion()}\n`); // 0.1.0
 * ```
 */
export function packageVersion(): string {
  // Found by walking up from the script rather than by a fixed relative path: the CJS and ESM
  // builds sit at different depths, `import.meta` is not available to the CJS build, and
  // dist/cjs/package.json (`{"type":"commonjs"}`) is on the way and must be skipped.
  const script = process.argv[1];
  if (script === undefined) return 'unknown';
  let dir: string;
  try {
    dir = path.dirname(fs.realpathSync(script));
  } catch {
    return 'unknown';
  }
  for (let depth = 0; depth < 8; depth++) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'dflockd-rx' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // No (readable) package.json at this level: keep walking up.
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return 'unknown';
}
