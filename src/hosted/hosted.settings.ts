// Per-account settings of the payment page: whether to ask for the billing address, whether
// email is mandatory, optional or not asked, and which card brands the account takes. A missing
// row means the defaults, which are GOV.UK Pay's (address on, email mandatory, every brand).
import type { AppContext } from '../platform/context.js';
import { CARD_BRANDS } from '../connectors/card-brand.js';
import type { CardBrand } from '../connectors/connector.js';
import { cofferError } from '../platform/errors.js';
import { findPageSettings, upsertPageSettings } from './hosted.repo.js';
import type { EmailCollection } from './hosted.tables.js';
import type { PageSettings } from './card-form.js';

export const DEFAULT_PAGE_SETTINGS: PageSettings = {
  collectBillingAddress: true,
  emailCollection: 'mandatory',
  acceptedBrands: CARD_BRANDS,
};

const isBrand = (value: string): value is CardBrand => (CARD_BRANDS as readonly string[]).includes(value);

export async function getPageSettings(ctx: AppContext, accountId: string): Promise<PageSettings> {
  const row = await findPageSettings(ctx.db, accountId);
  if (!row) return DEFAULT_PAGE_SETTINGS;
  return {
    collectBillingAddress: row.collect_billing_address,
    emailCollection: row.email_collection,
    acceptedBrands: row.accepted_brands.filter(isBrand),
  };
}

export async function updatePageSettings(
  ctx: AppContext,
  accountId: string,
  changes: { collectBillingAddress?: boolean; emailCollection?: EmailCollection; acceptedBrands?: readonly string[] },
): Promise<PageSettings> {
  const current = await getPageSettings(ctx, accountId);
  const brands = changes.acceptedBrands ?? current.acceptedBrands;
  const unknown = brands.filter((b) => !isBrand(b));
  if (unknown.length > 0) throw cofferError('C0422', [`unknown card brand: ${unknown.join(', ')}`], { field: 'accepted_brands' });
  if (brands.length === 0) throw cofferError('C0422', ['an account must accept at least one card brand'], { field: 'accepted_brands' });
  const next: PageSettings = {
    collectBillingAddress: changes.collectBillingAddress ?? current.collectBillingAddress,
    emailCollection: changes.emailCollection ?? current.emailCollection,
    acceptedBrands: brands.filter(isBrand),
  };
  await upsertPageSettings(ctx.db, {
    accountId,
    collectBillingAddress: next.collectBillingAddress,
    emailCollection: next.emailCollection,
    acceptedBrands: [...next.acceptedBrands],
    at: ctx.clock.now(),
  });
  return next;
}
