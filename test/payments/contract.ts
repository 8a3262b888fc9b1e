// Validates responses against GOV.UK Pay's own OpenAPI document (fixtures/, copied verbatim from
// alphagov/pay-publicapi), with the corrections the reference records where the service does not
// do what its spec says (§13), plus what the spec cannot say on its own: which fields are always
// present, and that nothing undocumented appears (additionalProperties: false throughout).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';

type Schema = Record<string, unknown>;
const spec = JSON.parse(readFileSync(new URL('./fixtures/govuk-pay-publicapi-openapi.json', import.meta.url), 'utf8')) as {
  components: { schemas: Record<string, Schema & { properties?: Record<string, Schema> }> };
};
const schemas = structuredClone(spec.components.schemas);

// §13: metadata is a flat object of string, number or boolean values.
schemas.ExternalMetadata = {
  type: 'object',
  maxProperties: 15,
  additionalProperties: { anyOf: [{ type: 'string', maxLength: 100 }, { type: 'number' }, { type: 'boolean' }] },
};
// The service reports agreement mode too, which the spec's enum leaves out.
for (const name of ['PaymentWithAllLinks', 'PaymentDetailForSearch']) {
  const mode = schemas[name]?.properties?.authorisation_mode as Schema;
  mode.enum = ['web', 'moto_api', 'agreement', 'external'];
}
// The spec types each next_url_post param as an object; the service sends strings ({chargeTokenId: "…"}).
(schemas.PostLink!.properties!.params as Schema).additionalProperties = { type: 'string' };
// Coffer's error bodies also carry the request id.
schemas.RequestError!.properties!.request_id = { type: 'string' };

const REQUIRED: Record<string, string[]> = {
  PaymentWithAllLinks: ['payment_id', 'amount', 'description', 'reference', 'language', 'state', 'payment_provider', 'created_date', 'refund_summary', 'settlement_summary', 'delayed_capture', 'moto', 'authorisation_mode', '_links'],
  PaymentDetailForSearch: ['payment_id', 'amount', 'description', 'reference', 'language', 'state', 'payment_provider', 'created_date', 'refund_summary', 'settlement_summary', 'delayed_capture', 'moto', '_links'],
  PaymentLinks: ['self', 'events', 'refunds'],
  PaymentLinksForSearch: ['self', 'events', 'refunds'],
  PaymentState: ['status', 'finished'],
  RefundSummary: ['status', 'amount_available', 'amount_submitted'],
  Link: ['href', 'method'],
  PostLink: ['href', 'method'],
  PaymentSearchResults: ['total', 'count', 'page', 'results', '_links'],
  RefundSearchResults: ['total', 'count', 'page', 'results', '_links'],
  SearchNavigationLinks: ['self'],
  PaymentEvents: ['payment_id', 'events', '_links'],
  PaymentEvent: ['payment_id', 'state', 'updated', '_links'],
  Refund: ['refund_id', 'payment_id', 'amount', 'status', 'created_date', 'settlement_summary', '_links'],
  RefundDetailForSearch: ['refund_id', 'payment_id', 'amount', 'status', 'created_date', 'settlement_summary', '_links'],
  RefundForSearchResult: ['payment_id', '_links', '_embedded'],
  RequestError: ['code', 'description'],
};
for (const [name, schema] of Object.entries(schemas)) {
  if (name !== 'ExternalMetadata' && schema.type === 'object' && schema.properties) schema.additionalProperties = false;
  if (REQUIRED[name]) schema.required = REQUIRED[name];
}
// The page links are HAL {href} only (§6.3).
schemas.SearchNavigationLinks!.properties = Object.fromEntries(
  ['self', 'first_page', 'last_page', 'prev_page', 'next_page'].map((k) => [k, { type: 'object', required: ['href'], additionalProperties: false, properties: { href: { type: 'string' } } }]),
);

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: 'govuk', components: { schemas } });

export type SpecSchema = 'PaymentWithAllLinks' | 'PaymentSearchResults' | 'PaymentEvents' | 'Refund' | 'RefundForSearchResult' | 'RefundSearchResults' | 'RequestError';

/** Fails the test when the body does not match the (corrected) GOV.UK Pay schema. */
export function assertMatchesSpec(schema: SpecSchema, body: unknown): void {
  const validate = ajv.getSchema(`govuk#/components/schemas/${schema}`);
  assert.ok(validate, `no schema ${schema}`);
  const ok = validate(body);
  assert.ok(ok, `${schema}: ${JSON.stringify(validate.errors, null, 1)}\n${JSON.stringify(body)}`);
}
