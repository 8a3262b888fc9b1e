// One registry of every error a client can see: its code, HTTP status and message.
// The payments API uses GOV.UK Pay's P-codes (added by the payments domain); Coffer's own
// endpoints use C-codes in the same body shape: {code, field?, description, request_id}.

export const errorRegistry = {
  C0101: { status: 400, description: 'Missing mandatory attribute: %s' },
  C0102: { status: 422, description: 'Invalid attribute value: %s. %s' },
  C0104: { status: 400, description: 'Unexpected attribute: %s' },
  C0197: { status: 400, description: 'Unable to parse JSON' },
  C0198: { status: 415, description: 'Content-Type must be application/json' },
  C0199: { status: 413, description: 'Request body is too large' },
  C0401: { status: 401, description: 'Credentials are missing or invalid' },
  C0403: { status: 403, description: 'This API key does not have the scope this request needs: %s' },
  C0404: { status: 403, description: 'Requests from this network address are not allowed with this API key' },
  C0405: { status: 404, description: 'Not found' },
  C0409: { status: 409, description: '%s' },
  C0422: { status: 422, description: '%s' },
  C0429: { status: 429, description: 'Too many requests' },
  C0500: { status: 500, description: 'Something went wrong. Quote the request id if you contact support.' },
  C0503: { status: 503, description: 'Service unavailable' },
} as const satisfies Record<string, { status: number; description: string }>;

export type CofferErrorCode = keyof typeof errorRegistry;

/** An expected failure a client may see. Anything else that is thrown is a bug and becomes C0500. */
export class CofferError extends Error {
  readonly code: string;
  readonly status: number;
  readonly field: string | undefined;
  readonly header: string | undefined;

  constructor(code: string, status: number, description: string, options: { field?: string; header?: string } = {}) {
    super(description);
    this.name = 'CofferError';
    this.code = code;
    this.status = status;
    this.field = options.field;
    this.header = options.header;
  }

  toBody(requestId: string): ErrorBody {
    const body: ErrorBody = { code: this.code, description: this.message, request_id: requestId };
    if (this.field !== undefined) body.field = this.field;
    if (this.header !== undefined) body.header = this.header;
    return body;
  }
}

export interface ErrorBody {
  code: string;
  field?: string;
  header?: string;
  description: string;
  request_id: string;
}

/** Builds an error from the registry, filling the description's %s placeholders in order. */
export function cofferError(code: CofferErrorCode, args: string[] = [], options: { field?: string; header?: string } = {}): CofferError {
  const entry = errorRegistry[code];
  return new CofferError(code, entry.status, fill(entry.description, args), options);
}

export function fill(template: string, args: readonly string[]): string {
  let i = 0;
  return template.replace(/%s/g, () => args[i++] ?? '');
}

export const notFound = (): CofferError => cofferError('C0405');
export const conflict = (message: string): CofferError => cofferError('C0409', [message]);
export const unprocessable = (message: string, field?: string): CofferError =>
  cofferError('C0422', [message], field === undefined ? {} : { field });
