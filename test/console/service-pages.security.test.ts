// One runner that throws every access case at every console page about a service's account
// (SERVICE_PAGES, filled as page modules register): no session, a user of another service, a
// service that does not exist, a live account that does not exist, a role without the page's
// permission, and a form posted without its CSRF token. A new page is covered the moment it is
// registered; none of these cases may ever reach its handler.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { SERVICE_PAGES, fillPath } from '../../src/console/pages/console.shell.js';
import { can, type Role } from '../../src/console/identity/roles.js';
import { enrolledUser, type EnrolledUser } from './helpers.js';
import { sessionCookie } from './browser-session.js';

let coffer: TestCoffer;
before(async () => {
  coffer = await startCoffer();
});
after(async () => coffer.close());

/** Each registered page once (a second server in one process would register them again). */
function pages(): { method: 'GET' | 'POST'; path: string; permission: string }[] {
  const seen = new Map<string, (typeof SERVICE_PAGES)[number]>();
  for (const p of SERVICE_PAGES) seen.set(`${p.method} ${p.path}`, p);
  return [...seen.values()];
}

const urlOf = (serviceId: string, mode: string, path: string): string => `/console/services/${serviceId}/${mode}${fillPath(path, new Proxy({}, { get: () => 'xyz' }))}`;

/** A console session plus the browser session and CSRF token its forms carry. */
async function browserOf(user: EnrolledUser): Promise<{ cookie: string; csrf: string }> {
  const home = await fetch(`${coffer.url}/console`, { headers: { cookie: sessionCookie(user) } });
  assert.equal(home.status, 200);
  const browserCookie = home.headers.getSetCookie().map((c) => c.split(';')[0]!).join('; ');
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(await home.text())?.[1];
  assert.ok(csrf, 'the home page carries a CSRF token');
  return { cookie: `${sessionCookie(user)}; ${browserCookie}`, csrf };
}

async function send(method: string, url: string, cookie: string | undefined, form?: Record<string, string>): Promise<Response> {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  let body: string | undefined;
  if (method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form ?? {}).toString();
  }
  return fetch(coffer.url + url, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
}

describe('every console service page refuses what it must', () => {
  test('pages are registered', () => {
    assert.ok(pages().length >= 1, 'no service pages registered');
  });

  test('without a session: GET goes to sign-in, POST is refused', async () => {
    const serviceId = await coffer.newService();
    for (const p of pages()) {
      const response = await send(p.method, urlOf(serviceId, 'test', p.path), undefined);
      if (p.method === 'GET') {
        assert.equal(response.status, 303, `${p.method} ${p.path}`);
        assert.equal(response.headers.get('location'), '/console/sign-in', `${p.method} ${p.path}`);
      } else {
        assert.equal(response.status, 403, `${p.method} ${p.path}`);
      }
    }
  });

  test("another service's pages, a missing service and a missing live account all answer the same 404", async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const otherService = await coffer.newService('Someone else');
    const { cookie, csrf } = await browserOf(admin);
    const targets = [
      [otherService, 'test'],
      ['svc_doesnotexist', 'test'],
      [admin.serviceId, 'live'],
    ] as const;
    for (const [serviceId, mode] of targets) {
      for (const p of pages()) {
        const response = await send(p.method, urlOf(serviceId, mode, p.path), cookie, { csrf_token: csrf });
        assert.equal(response.status, 404, `${p.method} ${p.path} on ${serviceId}/${mode}`);
        const text = await response.text();
        assert.ok(!text.includes('Someone else'), 'the 404 names nothing');
      }
    }
  });

  for (const role of ['view-only', 'view-and-refund', 'developer'] as Role[]) {
    test(`a ${role} is refused every page its role does not allow, even with a valid form`, async () => {
      const user = await enrolledUser(coffer, { role });
      const { cookie, csrf } = await browserOf(user);
      let refused = 0;
      for (const p of pages()) {
        if (can(role, p.permission as never)) continue;
        const response = await send(p.method, urlOf(user.serviceId, 'test', p.path), cookie, { csrf_token: csrf });
        if (p.method === 'GET' && p.path === '') {
          // The account's home sends a role without the dashboard on to a page it has.
          assert.equal(response.status, 303, `${role}: the account home`);
          assert.ok((response.headers.get('location') ?? '').startsWith(`/console/services/${user.serviceId}/test/`));
          continue;
        }
        assert.equal(response.status, 403, `${role}: ${p.method} ${p.path}`);
        refused++;
      }
      assert.ok(refused > 0 || pages().every((p) => can(role, p.permission as never)));
    });
  }

  test('a form posted without its CSRF token, or with a wrong one, is refused', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const { cookie } = await browserOf(admin);
    for (const p of pages().filter((x) => x.method === 'POST')) {
      for (const form of [{}, { csrf_token: 'forged' }] as Record<string, string>[]) {
        const response = await send('POST', urlOf(admin.serviceId, 'test', p.path), cookie, form);
        assert.equal(response.status, 403, `POST ${p.path}`);
      }
    }
  });

  test('a member with the permission gets the page, inside the service frame', async () => {
    const admin = await enrolledUser(coffer, { role: 'administrator' });
    const { cookie } = await browserOf(admin);
    const response = await send('GET', urlOf(admin.serviceId, 'test', ''), cookie);
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /aria-label="Service"/);
    assert.match(html, /TEST/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });
});
