// `npm run build`: compiles src/ into dist/ with tsc, then copies every file under src/ that
// is not TypeScript (templates, stylesheets, browser scripts, data files) to the same place
// under dist/, so a module finds them beside itself and dist/ runs without src/. The copy goes
// by kind, not by list: a new view or asset anywhere under src/ is shipped without touching this.
// Usage: node scripts/build.mjs [outDir] [tsc options…]   (default dist; tests build into a
// temporary folder with --noCheck: the type check has its own step, and the output is the same)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const source = join(root, 'src');
const [outDir = 'dist', ...tscOptions] = process.argv.slice(2);
const out = resolve(root, outDir);

/** Files a running Coffer never reads: TypeScript (compiled instead) and documentation. */
const notShipped = (name) => /\.(ts|mts|cts|md)$/.test(name);

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out, ...tscOptions], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

let copied = 0;
for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || notShipped(entry.name)) continue;
  const from = join(entry.parentPath, entry.name);
  const to = join(out, relative(source, from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  copied += 1;
}
console.log(`build: compiled src/ and copied ${copied} templates, assets and data files into ${relative(root, out).startsWith('..') ? out : relative(root, out)}/`);
