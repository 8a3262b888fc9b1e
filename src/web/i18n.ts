// Message catalogues for Coffer's pages. Each domain has an English catalogue and a Welsh one
// typed against it (a missing Welsh message does not compile); pages look messages up by key and
// an unknown key is a bug that throws, never a blank on the page.
export const LANGUAGES = ['en', 'cy'] as const;
export type Lang = (typeof LANGUAGES)[number];

export type Catalogue = Readonly<Record<string, string>>;
export type Catalogues = Readonly<Record<Lang, Catalogue>>;

export type Translate = (key: string, params?: Record<string, string | number>) => string;

export function isLang(value: unknown): value is Lang {
  return value === 'en' || value === 'cy';
}

/** Joins several domains' catalogues; a key defined twice is a mistake caught at start-up. */
export function mergeCatalogues(...parts: Catalogues[]): Catalogues {
  const merged: Record<Lang, Record<string, string>> = { en: {}, cy: {} };
  for (const part of parts) {
    for (const lang of LANGUAGES) {
      for (const [key, message] of Object.entries(part[lang])) {
        if (key in merged[lang]) throw new TypeError(`message ${key} is defined twice`);
        merged[lang][key] = message;
      }
    }
  }
  for (const key of Object.keys(merged.en)) if (!(key in merged.cy)) throw new TypeError(`no Welsh for ${key}`);
  return merged;
}

export function translator(catalogues: Catalogues, lang: Lang): Translate {
  const catalogue = catalogues[lang];
  return (key, params) => {
    const message = catalogue[key];
    if (message === undefined) throw new TypeError(`no message ${key} in ${lang}`);
    if (!params) return message;
    return message.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}

/** Amounts as the pages show them: £12.50, the same in English and Welsh. */
export function formatMoney(amount: number, currency: string): string {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount / 100);
}
