// Page-based search as GOV.UK Pay does it: page ≥ 1, display_size 1–500 (default 500), newest
// first, HAL page links that repeat the recognised parameters (and nothing else).

export const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
export const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export function parseDateTime(value: string): Date | undefined {
  if (!DATE_TIME.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== value.slice(0, 19) ? undefined : date;
}

export function parseDateOnly(value: string): Date | undefined {
  if (!DATE_ONLY.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? undefined : date;
}

const POSITIVE = /^[1-9]\d{0,8}$/;

export interface Paging {
  page: number;
  displaySize: number;
}

/** Parses page and display_size, naming each that is bad in `bad`. */
export function parsePaging(query: { page?: string | undefined; display_size?: string | undefined }, bad: string[]): Paging {
  let page = 1;
  let displaySize = 500;
  if (query.page !== undefined) {
    if (POSITIVE.test(query.page)) page = Number(query.page);
    else bad.push('page');
  }
  if (query.display_size !== undefined) {
    if (POSITIVE.test(query.display_size) && Number(query.display_size) <= 500) displaySize = Number(query.display_size);
    else bad.push('display_size');
  }
  return { page, displaySize };
}

export interface PageLinks {
  self: { href: string };
  first_page?: { href: string };
  last_page?: { href: string };
  prev_page?: { href: string };
  next_page?: { href: string };
}

export function pageLinks(base: string, params: [string, string][], paging: Paging, total: number): PageLinks {
  const lastPage = Math.max(1, Math.ceil(total / paging.displaySize));
  const href = (page: number) => {
    const search = new URLSearchParams([...params, ['page', String(page)], ['display_size', String(paging.displaySize)]]);
    return { href: `${base}?${search.toString()}` };
  };
  const links: PageLinks = { self: href(paging.page), first_page: href(1), last_page: href(lastPage) };
  if (paging.page > 1) links.prev_page = href(paging.page - 1);
  if (paging.page < lastPage) links.next_page = href(paging.page + 1);
  return links;
}

/** True when the page lies past the last one (an empty result still has a page 1). */
export function pastTheEnd(paging: Paging, total: number): boolean {
  return paging.page > Math.max(1, Math.ceil(total / paging.displaySize));
}
