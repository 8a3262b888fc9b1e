// A payer's browser over plain HTTP: a cookie jar, form posts, manual redirects (so each hop
// can be asserted), and the CSRF token read from the page as a browser would submit it.
import assert from 'node:assert/strict';
import type { TestCoffer } from '../support/harness.js';

export interface PageResponse {
  status: number;
  location: string | null;
  headers: Headers;
  html: string;
}

export class PayerClient {
  readonly cookies = new Map<string, string>();
  /** Every Set-Cookie header received, as sent. */
  readonly setCookies: string[] = [];
  /** Every response: status line, headers and body, for tests that search what left Coffer. */
  readonly transcript: string[] = [];

  constructor(
    private readonly coffer: TestCoffer,
    private readonly extraHeaders: Record<string, string> = {},
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private absorb(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.send('GET', path, undefined, headers);
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.send('POST', path, new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  }

  async send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<PageResponse> {
    const url = path.startsWith('http') ? path : this.coffer.url + path;
    const all: Record<string, string> = { ...this.extraHeaders, ...headers };
    if (this.cookies.size > 0) all.cookie = this.cookieHeader();
    const response = await fetch(url, { method, headers: all, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    this.absorb(response);
    const html = await response.text();
    this.transcript.push(`${method} ${path} → ${response.status}\n${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${html}`);
    return { status: response.status, location: response.headers.get('location'), headers: response.headers, html };
  }

  /** GET, then follow same-origin redirects; returns the last response and the path it came from. */
  async follow(path: string): Promise<PageResponse & { path: string }> {
    let current = path;
    for (let hops = 0; hops < 10; hops++) {
      const response = await this.get(current);
      if (response.status !== 303 && response.status !== 302) return { ...response, path: current };
      assert.ok(response.location, 'redirect without location');
      if (/^https?:/.test(response.location) && !response.location.startsWith(this.coffer.url)) return { ...response, path: current };
      current = response.location.replace(this.coffer.url, '');
    }
    throw new Error('too many redirects');
  }

  /** Posts a form from a page just fetched, with that page's CSRF token. */
  async submit(page: { html: string }, path: string, form: Record<string, string>): Promise<PageResponse> {
    return this.post(path, { csrf_token: csrfOf(page.html), ...form });
  }
}

export function csrfOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  assert.ok(match, 'page has no CSRF token');
  return match[1]!;
}

/** A well-formed card form for a test card. */
export function cardForm(number: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    cardNo: number,
    expiryMonth: '12',
    expiryYear: '30',
    cardholderName: 'Ms Test Payer',
    cvc: number.startsWith('34') || number.startsWith('37') ? '1234' : '123',
    addressLine1: '1 Test Street',
    addressLine2: '',
    addressCity: 'Cardiff',
    addressPostcode: 'CF10 1AA',
    addressCountry: 'GB',
    email: 'payer@example.org',
    ...overrides,
  };
}

export function textOf(html: string, id: string): string | undefined {
  // eslint-disable-next-line security/detect-non-literal-regexp -- ids come from the tests themselves
  const match = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`).exec(html);
  return match?.[1]?.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
}

/** Creates a payment over the API with a new tenant's test key. */
export async function createTestPayment(coffer: TestCoffer, overrides: Record<string, unknown> = {}, key?: string) {
  const token = key ?? (await coffer.newTenant()).token;
  const body = { amount: 1200, reference: 'INV-1', description: 'A licence', return_url: 'https://service.example.org/return', ...overrides };
  const created = await coffer.request('POST', '/v1/payments', { key: token, body });
  assert.equal(created.status, 201, created.text);
  const nextUrl = created.body._links.next_url.href as string;
  return { key: token, id: created.body.payment_id as string, nextUrl, path: nextUrl.replace(coffer.url, ''), body: created.body };
}

export async function apiStatus(coffer: TestCoffer, key: string, id: string): Promise<{ status: string; code?: string; body: Record<string, unknown> }> {
  const response = await coffer.request('GET', `/v1/payments/${id}`, { key });
  assert.equal(response.status, 200, response.text);
  return { status: response.body.state.status, code: response.body.state.code, body: response.body };
}
