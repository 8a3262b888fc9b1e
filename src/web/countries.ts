// Countries and territories for address forms, named in the page's language by the ICU data
// Node ships (Welsh included), sorted for that language. ISO 3166-1 alpha-2 codes only: the
// deprecated aliases and the non-country codes ICU also names are left out.
import type { Lang } from './i18n.js';

const NOT_COUNTRIES = new Set([
  // Deprecated aliases that ICU still resolves.
  'AN', 'BU', 'CS', 'DD', 'DY', 'FX', 'HV', 'NH', 'RH', 'SU', 'TP', 'UK', 'VD', 'YD', 'YU', 'ZR',
  // Reserved or grouping codes that are not countries or territories.
  'AC', 'CP', 'CQ', 'DG', 'EA', 'EU', 'EZ', 'IC', 'QO', 'TA', 'UN', 'XA', 'XB', 'ZZ',
]);

export interface Country {
  code: string;
  name: string;
}

const cache = new Map<Lang, Country[]>();

export function countries(lang: Lang): Country[] {
  const cached = cache.get(lang);
  if (cached) return cached;
  const names = new Intl.DisplayNames([lang], { type: 'region', fallback: 'none' });
  const list: Country[] = [];
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      if (NOT_COUNTRIES.has(code)) continue;
      const name = names.of(code);
      if (name !== undefined && name !== code) list.push({ code, name });
    }
  }
  const collator = new Intl.Collator(lang);
  list.sort((x, y) => collator.compare(x.name, y.name));
  cache.set(lang, list);
  return list;
}

export function isCountryCode(code: string): boolean {
  return countries('en').some((c) => c.code === code);
}
