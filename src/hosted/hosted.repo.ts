// SQL for the payment pages: session bindings, page settings, authorisation attempts.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { AttemptOutcome, EmailCollection, HostedAccountSettingsRow } from './hosted.tables.js';

type Db = Kysely<Database>;

/** Binds a payment to a session, replacing any earlier binding (a fresh next_url was used). */
export async function bindPayment(db: Db, paymentId: string, sessionIdHash: string, at: Date): Promise<void> {
  await db
    .insertInto('hosted_payment_bindings')
    .values({ payment_id: paymentId, session_id_hash: sessionIdHash, bound_at: at })
    .onConflict((oc) => oc.column('payment_id').doUpdateSet({ session_id_hash: sessionIdHash, bound_at: at }))
    .execute();
}

export async function findBinding(db: Db, paymentId: string): Promise<{ session_id_hash: string } | undefined> {
  return db.selectFrom('hosted_payment_bindings').select('session_id_hash').where('payment_id', '=', paymentId).executeTakeFirst();
}

export async function findPageSettings(db: Db, accountId: string): Promise<HostedAccountSettingsRow | undefined> {
  return db.selectFrom('hosted_account_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

export async function upsertPageSettings(
  db: Db,
  row: { accountId: string; collectBillingAddress: boolean; emailCollection: EmailCollection; acceptedBrands: string[]; at: Date },
): Promise<void> {
  const values = {
    account_id: row.accountId,
    collect_billing_address: row.collectBillingAddress,
    email_collection: row.emailCollection,
    accepted_brands: row.acceptedBrands,
    updated_at: row.at,
  };
  await db
    .insertInto('hosted_account_settings')
    .values(values)
    .onConflict((oc) =>
      oc.column('account_id').doUpdateSet({
        collect_billing_address: values.collect_billing_address,
        email_collection: values.email_collection,
        accepted_brands: values.accepted_brands,
        updated_at: values.updated_at,
      }),
    )
    .execute();
}

export async function insertAttempt(
  db: Db,
  attempt: { paymentId: string; accountId: string; ipHash: string; cardFingerprint: string; outcome: AttemptOutcome; at: Date },
): Promise<void> {
  await db
    .insertInto('hosted_authorisation_attempts')
    .values({
      payment_id: attempt.paymentId,
      account_id: attempt.accountId,
      ip_hash: attempt.ipHash,
      card_fingerprint: attempt.cardFingerprint,
      outcome: attempt.outcome,
      created_at: attempt.at,
    })
    .execute();
}

export interface AttemptCounts {
  forPayment: number;
  forIp: number;
  declinedForIp: number;
  forCard: number;
  declinedForCard: number;
}

/** Attempts since `since` (refusals by the limits themselves are not counted again). */
export async function countAttempts(db: Db, keys: { paymentId: string; ipHash: string; cardFingerprint: string }, since: Date): Promise<AttemptCounts> {
  const row = await db
    .selectFrom('hosted_authorisation_attempts')
    .select((eb) => [
      eb.fn.countAll<number>().filterWhere('payment_id', '=', keys.paymentId).as('forPayment'),
      eb.fn.countAll<number>().filterWhere('ip_hash', '=', keys.ipHash).as('forIp'),
      eb.fn.countAll<number>().filterWhere((w) => w.and([w('ip_hash', '=', keys.ipHash), w('outcome', '=', 'declined')])).as('declinedForIp'),
      eb.fn.countAll<number>().filterWhere('card_fingerprint', '=', keys.cardFingerprint).as('forCard'),
      eb.fn
        .countAll<number>()
        .filterWhere((w) => w.and([w('card_fingerprint', '=', keys.cardFingerprint), w('outcome', '=', 'declined')]))
        .as('declinedForCard'),
    ])
    .where('created_at', '>=', since)
    .where('outcome', '!=', 'refused_limit')
    .where((w) => w.or([w('payment_id', '=', keys.paymentId), w('ip_hash', '=', keys.ipHash), w('card_fingerprint', '=', keys.cardFingerprint)]))
    .executeTakeFirstOrThrow();
  return {
    forPayment: Number(row.forPayment),
    forIp: Number(row.forIp),
    declinedForIp: Number(row.declinedForIp),
    forCard: Number(row.forCard),
    declinedForCard: Number(row.declinedForCard),
  };
}
