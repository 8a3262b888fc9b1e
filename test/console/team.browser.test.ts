// The console's team pages in a real browser: the team list, inviting a user (the link shown
// once, sent over real SMTP, and accepted in a second browser), changing a role (the last
// administrator cannot be demoted), and the leavers' process: the confirmation lists the keys a
// developer created, removal revokes them (the API then answers 401) and ends their sessions.
// A view-only user posting a team change directly is refused; axe on every page; an email with
// markup characters shows as text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startCoffer, type TestCoffer } from '../support/harness.js';
import { axe, launchBrowser, openPage } from '../support/browser.js';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp.js';
import { createKey } from '../../src/keys/key.service.js';
import { findMembership } from '../../src/console/identity/user.repo.js';
import { signedInBrowser, sessionCookie, type SignedInBrowser } from './browser-session.js';
import { enrolledUser, PASSWORD, uniqueEmail } from './helpers.js';

let coffer: TestCoffer;
let browser: Browser;
let smtp: SmtpPeer;
let admin: SignedInBrowser;

before(async () => {
  coffer = await startCoffer();
  smtp = await startSmtpPeer();
  browser = await launchBrowser();
  admin = await signedInBrowser(browser, coffer, { role: 'administrator' });
});
after(async () => {
  await admin?.context.close();
  await browser?.close();
  await smtp?.close();
  await coffer?.close();
});

async function noAxeViolations(page: Page): Promise<void> {
  assert.deepEqual(await axe(page), [], `axe on ${page.url()}`);
}

describe('team page', () => {
  test('lists members with role, status, second factors and last sign-in', async () => {
    const response = await admin.page.goto(`${admin.base()}/team`);
    assert.equal(response?.status(), 200);
    assert.equal(response?.headers()['cache-control'], 'no-store');
    const row = admin.page.locator(`#member-${admin.user.userId}`);
    const text = await row.innerText();
    assert.ok(text.includes(admin.user.email));
    assert.ok(text.includes('Administrator'));
    assert.ok(text.includes('active'));
    assert.ok(text.includes('authenticator app'));
    await noAxeViolations(admin.page);
  });
});

describe('inviting', () => {
  test('an invite made on the page is shown once, emailed, listed as pending, and works in another browser', async () => {
    coffer.ctx.mail = smtp.settings('Coffer <console@example.org>');
    const before = smtp.received.length;
    const page = admin.page;
    const email = uniqueEmail('invitee');
    await page.goto(`${admin.base()}/team`);
    await page.click('#invite-link');
    assert.equal(await page.locator('h1').innerText(), 'Invite a user');
    await noAxeViolations(page);

    await page.fill('#email', 'not an email');
    await page.check('#role-developer');
    await page.click('button[type=submit]');
    assert.ok((await page.locator('.error-summary').innerText()).includes('correct format'));
    assert.equal(await page.locator('#role-developer').isChecked(), true, 'the choice is kept');
    await noAxeViolations(page);

    await page.fill('#email', email);
    await page.click('button[type=submit]');
    assert.equal(await page.locator('h1').innerText(), 'Invitation created');
    const link = (await page.locator('#invite-link-value').innerText()).trim();
    assert.ok(link.startsWith(`${coffer.url}/console/invite/`));
    assert.match(link.split('/').at(-1)!, /^[A-Za-z0-9_-]{20,}$/);
    assert.ok((await page.locator('#invite-mail').innerText()).includes('sent the link'));
    await noAxeViolations(page);
    const mails = smtp.received.slice(before);
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0]!.to, [email]);
    assert.ok(mails[0]!.raw.replace(/=\r?\n/g, '').includes(link), 'the email carries the link');

    // Shown once: the team page lists the invite, never its link.
    await page.goto(`${admin.base()}/team`);
    const invites = await page.locator('#team-invites').innerText();
    assert.ok(invites.includes(email));
    assert.ok(invites.includes('Developer'));
    assert.ok(!(await page.content()).includes(link));

    const invitee = await openPage(browser);
    try {
      await invitee.page.goto(link);
      assert.equal(await invitee.page.locator('h1').innerText(), 'Create your account');
      await invitee.page.fill('#password', PASSWORD);
      await invitee.page.fill('#confirm', PASSWORD);
      await invitee.page.click('button[type=submit]');
      await invitee.page.waitForURL('**/console/mfa/setup');
    } finally {
      await invitee.context.close();
    }
    await page.goto(`${admin.base()}/team`);
    assert.ok((await page.locator('#team-members').innerText()).includes(email), 'the invitee is a member now');
  });

  test('without SMTP the link is shown and the page says it was not emailed', async () => {
    coffer.ctx.mail = undefined;
    const page = admin.page;
    await page.goto(`${admin.base()}/team/invite`);
    await page.fill('#email', uniqueEmail('nomail'));
    await page.click('button[type=submit]');
    assert.ok((await page.locator('#invite-mail').innerText()).includes('does not send email'));
    assert.ok((await page.locator('#invite-link-value').innerText()).includes('/console/invite/'));
  });

  test('an email address with markup characters shows as text', async () => {
    const page = admin.page;
    const hostile = `"'onmouseover=alert(1)&{{7*7}}${Date.now()}@example.org`;
    await page.goto(`${admin.base()}/team/invite`);
    await page.fill('#email', hostile);
    await page.click('button[type=submit]');
    assert.ok((await page.locator('main').innerText()).includes(hostile));
    await page.goto(`${admin.base()}/team`);
    assert.ok((await page.locator('#team-invites').innerText()).includes(hostile));
    assert.equal(await page.locator('[onmouseover]').count(), 0);
    assert.deepEqual(admin.console.errors, []);
  });
});

describe('roles', () => {
  test('an administrator changes a member’s role; the last administrator cannot be demoted', async () => {
    const member = await enrolledUser(coffer, { serviceId: admin.user.serviceId, role: 'view-only' });
    const page = admin.page;
    await page.goto(`${admin.base()}/team`);
    await page.click(`#member-${member.userId} a`);
    assert.equal(await page.locator('h1').innerText(), member.email);
    await noAxeViolations(page);
    await page.check('#role-view-and-refund');
    await page.click('form[action$="/role"] button[type=submit]');
    await page.waitForURL('**/team?done=role');
    assert.ok((await page.locator(`#member-${member.userId}`).innerText()).includes('View and refund'));
    assert.equal((await findMembership(coffer.ctx.db, admin.user.serviceId, member.userId))?.role, 'view-and-refund');

    await page.goto(`${admin.base()}/team/members/${admin.user.userId}`);
    await page.check('#role-view-only');
    const refused = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/role')), page.click('form[action$="/role"] button[type=submit]')]);
    assert.equal(refused[0].status(), 409);
    assert.ok((await page.locator('.error-summary').innerText()).includes('at least one administrator'));
    await noAxeViolations(page);
    assert.equal((await findMembership(coffer.ctx.db, admin.user.serviceId, admin.user.userId))?.role, 'administrator');
  });

  test('a view-only user cannot see the team pages nor post a team change, even with a valid form token', async () => {
    const viewer = await signedInBrowser(browser, coffer, { role: 'view-only', serviceId: admin.user.serviceId });
    try {
      const page = viewer.page;
      assert.equal((await page.goto(`${viewer.base()}/team`))?.status(), 403);
      await page.goto(`${coffer.url}/console`);
      const token = await page.locator('input[name=csrf_token]').first().getAttribute('value');
      assert.ok(token);
      const action = `${viewer.base()}/team/members/${viewer.user.userId}/role`;
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === action),
        // A form built in the page and submitted as a browser would, past any hidden button.
        page.evaluate(`(() => {
          const form = document.createElement('form');
          form.method = 'post';
          form.action = ${JSON.stringify(action)};
          for (const [name, value] of [['csrf_token', ${JSON.stringify(token)}], ['role', 'administrator']]) {
            const input = document.createElement('input');
            input.type = 'hidden';
            input.name = name;
            input.value = value;
            form.append(input);
          }
          document.body.append(form);
          form.submit();
        })()`),
      ]);
      assert.equal(response.status(), 403);
      assert.equal((await findMembership(coffer.ctx.db, admin.user.serviceId, viewer.user.userId))?.role, 'view-only');
    } finally {
      await viewer.context.close();
    }
  });
});

describe('leavers', () => {
  test('removing a developer shows the keys they created, revokes them and ends their sessions', async () => {
    const developer = await enrolledUser(coffer, { serviceId: admin.user.serviceId, role: 'developer' });
    const theirs = await createKey(coffer.ctx, { serviceId: admin.user.serviceId, mode: 'test', name: 'Integration <b>key</b>', createdBy: `user:${developer.userId}` });
    const others = await createKey(coffer.ctx, { serviceId: admin.user.serviceId, mode: 'test', name: 'Admin key', createdBy: `user:${admin.user.userId}` });
    assert.equal((await coffer.request('GET', '/v1/payments', { key: theirs.token })).status, 200);
    const consoleHome = () => fetch(`${coffer.url}/console`, { headers: { cookie: sessionCookie(developer) }, redirect: 'manual' });
    assert.equal((await consoleHome()).status, 200);

    const page = admin.page;
    await page.goto(`${admin.base()}/team/members/${developer.userId}`);
    await page.click('#remove-link');
    assert.equal(await page.locator('h1').innerText(), `Remove ${developer.email} from the team`);
    const listed = await page.locator('#leaver-keys').innerText();
    assert.ok(listed.includes('Integration <b>key</b>'), 'key names show as text');
    assert.ok(!listed.includes('Admin key'));
    assert.equal(await page.locator('#leaver-keys b').count(), 0);
    await noAxeViolations(page);

    await page.click('#remove button[type=submit]');
    assert.equal(await page.locator('h1').innerText(), `${developer.email} was removed`);
    assert.ok((await page.locator('#removed').innerText()).includes(theirs.key.id));
    await noAxeViolations(page);

    assert.equal((await coffer.request('GET', '/v1/payments', { key: theirs.token })).status, 401);
    assert.equal((await coffer.request('GET', '/v1/payments', { key: others.token })).status, 200, 'keys of others are kept');
    const after = await consoleHome();
    assert.equal(after.status, 303);
    assert.match(after.headers.get('location') ?? '', /sign-in/);
    assert.equal(await findMembership(coffer.ctx.db, admin.user.serviceId, developer.userId), undefined);
    await page.goto(`${admin.base()}/team`);
    assert.ok(!(await page.locator('#team-members').innerText()).includes(developer.email));
  });

  test('a member of another service answers 404 on every team page', async () => {
    const stranger = await enrolledUser(coffer, { role: 'developer' });
    for (const path of [`/team/members/${stranger.userId}`, `/team/members/${stranger.userId}/remove`]) {
      assert.equal((await admin.page.goto(`${admin.base()}${path}`))?.status(), 404, path);
      assert.ok(!(await admin.page.content()).includes(stranger.email));
    }
  });

  test('a key created after the confirmation was shown stops the removal until it is seen', async () => {
    const developer = await enrolledUser(coffer, { serviceId: admin.user.serviceId, role: 'developer' });
    const page = admin.page;
    await page.goto(`${admin.base()}/team/members/${developer.userId}/remove`);
    assert.equal(await page.locator('#leaver-no-keys').count(), 1);
    const late = await createKey(coffer.ctx, { serviceId: admin.user.serviceId, mode: 'test', name: 'Late key', createdBy: `user:${developer.userId}` });
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/remove') && r.request().method() === 'POST'), page.click('#remove button[type=submit]')]);
    assert.equal(response.status(), 409);
    assert.ok((await page.locator('.error-summary').innerText()).includes('review them again'));
    assert.ok((await page.locator('#leaver-keys').innerText()).includes('Late key'));
    assert.ok(await findMembership(coffer.ctx.db, admin.user.serviceId, developer.userId));
    await page.click('#remove button[type=submit]');
    assert.equal(await page.locator('h1').innerText(), `${developer.email} was removed`);
    assert.equal((await coffer.request('GET', '/v1/payments', { key: late.token })).status, 401);
  });
});
