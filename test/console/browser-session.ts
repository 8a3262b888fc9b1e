// A browser already signed in to the console as a user with a given role, for page tests that
// are about a page, not about signing in (test/console/pages.browser.test.ts walks sign-in itself).
// The user is made through the real invite, password and TOTP steps; the browser gets that
// session's cookie, exactly as sign-in would have set it.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestCoffer } from '../support/harness.js';
import { openPage, type BrowserConsole } from '../support/browser.js';
import { enrolledUser, type EnrolledUser } from './helpers.js';

export interface SignedInBrowser {
  user: EnrolledUser;
  context: BrowserContext;
  page: Page;
  console: BrowserConsole;
  /** `${coffer.url}/console/services/<service>/<mode>` */
  base(mode?: 'test' | 'live'): string;
}

export async function signedInBrowser(browser: Browser, coffer: TestCoffer, options: { role?: string; serviceId?: string } = {}): Promise<SignedInBrowser> {
  const user = await enrolledUser(coffer, options);
  const opened = await openPage(browser);
  // Chromium refuses a Secure cookie given with an http:// url over CDP; by domain and path it is
  // accepted, and it sends it to 127.0.0.1, a potentially trustworthy origin.
  await opened.context.addCookies([{ name: '__Host-coffer_session', value: user.token, domain: new URL(coffer.url).hostname, path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
  return { user, ...opened, base: (mode = 'test') => `${coffer.url}/console/services/${user.serviceId}/${mode}` };
}

/** Cookie header for fetch-based checks with this user's console session. */
export const sessionCookie = (user: EnrolledUser): string => `__Host-coffer_session=${user.token}`;
