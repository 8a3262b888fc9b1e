// `npm run build` makes a dist/ that runs on its own: every template, asset and data file under
// src/ has its copy beside its module in dist/, and a build started from a folder without src/
// serves the payment pages and the console with the files it carried. The build goes to a
// temporary folder (scripts/build.mjs, the script behind `npm run build`), so the checkout's
// own dist/ is left alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { disposeTemplate, fromBuild, ROOT, runCoffer, startServe, workspace, type RunningServe, type Workspace } from './support.js';

const SOURCE = join(ROOT, 'src');
/** What a running Coffer reads from beside its modules: everything but TypeScript and documentation. */
const shipped = readdirSync(SOURCE, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && !/\.(ts|mts|cts|md)$/.test(entry.name))
  .map((entry) => relative(SOURCE, join(entry.parentPath, entry.name)));

let build: string;
let w: Workspace;
let server: RunningServe | undefined;

before(async () => {
  build = mkdtempSync(join(tmpdir(), 'coffer-build-'));
  // --noCheck: the same output without the type check, which `npm run typecheck` does anyway.
  const made = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), join(build, 'dist'), '--noCheck'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(made.status, 0, `build failed:\n${made.stdout}\n${made.stderr}`);
  // What an install of the package holds: dist/, package.json and the dependencies; no src/.
  cpSync(join(ROOT, 'package.json'), join(build, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(build, 'node_modules'), 'dir');
  w = await workspace();
});
after(async () => {
  if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  await w?.dispose();
  disposeTemplate();
  rmSync(build, { recursive: true, force: true });
});

test('the build carries every view, asset and data file under src/ beside its module', () => {
  assert.ok(shipped.some((file) => file.endsWith('.njk')) && shipped.some((file) => file.endsWith('.css')) && shipped.some((file) => file.endsWith('.json')));
  // The list was taken before the build. Others may edit src/ meanwhile: a file deleted, or
  // changed after the build copied it, is not a finding.
  const present = shipped.filter((file) => existsSync(join(SOURCE, file)));
  const missing = present.filter((file) => !existsSync(join(build, 'dist', file)));
  assert.deepEqual(missing, [], 'files under src/ with no copy in dist/');
  const different = present.filter((file) => {
    const copy = join(build, 'dist', file);
    return statSync(join(SOURCE, file)).mtimeMs <= statSync(copy).mtimeMs && !readFileSync(copy).equals(readFileSync(join(SOURCE, file)));
  });
  assert.deepEqual(different, [], 'copies that differ from src/');
  assert.ok(!existsSync(join(build, 'src')));
});

test('node dist/main/cli.js serve, without src/, serves the payment pages and the console with their assets', async () => {
  const entry = fromBuild(build);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  server = await startServe({ ...w.env, PORT: String(port), COFFER_BASE_URL: baseUrl }, entry);
  const serviceId = (await runCoffer(['service', 'create', '--name', 'From dist'], w.env, entry)).stdout.trim();
  const key = (await runCoffer(['key', 'create', '--service', serviceId, '--mode', 'test', '--name', 'dist'], w.env, entry)).stdout.trim();
  assert.match(key, /^coffer_test_/);

  const created = await fetch(`${baseUrl}/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: 1200, reference: 'DIST-1', description: 'A licence', return_url: 'https://service.example.org/return' }),
  });
  assert.equal(created.status, 201);
  const payment = (await created.json()) as { payment_id: string; _links: { next_url: { href: string } } };
  const exchanged = await fetch(payment._links.next_url.href, { redirect: 'manual' });
  assert.equal(exchanged.status, 303);
  const cookie = exchanged.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  const cardPage = await fetch(new URL(exchanged.headers.get('location')!, baseUrl), { headers: { cookie } });
  assert.equal(cardPage.status, 200);
  const cardHtml = await cardPage.text();
  assert.match(cardHtml, /£12\.00/);
  assert.match(cardHtml, /name="cardNo"/);

  const signIn = await fetch(`${baseUrl}/console/sign-in`);
  assert.equal(signIn.status, 200);
  const signInHtml = await signIn.text();

  // Each asset the pages name is served, byte for byte the file the build carried.
  const assets = [...new Set([...assetUrls(cardHtml), ...assetUrls(signInHtml)])];
  assert.ok(assets.some((url) => url.endsWith('.css')) && assets.some((url) => url.endsWith('card-brand.js')), assets.join(', '));
  for (const url of assets) {
    const served = await fetch(new URL(url, baseUrl));
    assert.equal(served.status, 200, url);
    const body = Buffer.from(await served.arrayBuffer());
    const file = shipped.find((candidate) => url.endsWith(candidate.split('/').pop()!) && readFileSync(join(build, 'dist', candidate)).equals(body));
    assert.ok(file, `${url} is not a file the build carried`);
  }

  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr());
});

/** The href and src of every stylesheet and script a page links to. */
function assetUrls(html: string): string[] {
  return [...html.matchAll(/<(?:link[^>]+href|script[^>]+src)="([^"]+\.(?:css|js))"/g)].map((match) => match[1]!);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
