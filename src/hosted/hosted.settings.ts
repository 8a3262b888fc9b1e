// Per-account settings of the payment page: whether to ask for the billing address, whether
// email is mandatory, optional or not asked, and which card brands the account takes. A missing
// row means the defaults, which are GOV.UK Pay's (address on, email mandatory, every brand).
// A change is recorded in the audit log (payment_page.update) in the same transaction.
import type { AppContext } from '../platform/context.js';
import { CARD_BRANDS } from '../connectors/card-brand.js';
import type { CardBrand } from '../connectors/connector.js';
import { cofferError } from '../platform/errors.js';
import { findPageSettings, upsertPageSettings } from './hosted.repo.js';
import { findAccountById } from '../services/service.repo.js';
import { recordAudit } from '../audit/audit.service.js';
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
  const at = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    await upsertPageSettings(trx, {
      accountId,
      collectBillingAddress: next.collectBillingAddress,
      emailCollection: next.emailCollection,
      acceptedBrands: [...next.acceptedBrands],
      at,
    });
    const account = await findAccountById(trx, accountId);
    await recordAudit(trx, {
      action: 'payment_page.update',
      object: { type: 'account', id: accountId },
      serviceId: account?.service_id,
      accountId,
      at,
      details: { collect_billing_address: next.collectBillingAddress, email_collection: next.emailCollection, accepted_brands: [...next.acceptedBrands] },
    });
  });
  return next;
}
