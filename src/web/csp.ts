// The Content-Security-Policy of every page: only Coffer's own scripts and styles, no inline
// script or style, no third-party origin, no framing, Trusted Types enforced so even our own
// script cannot write HTML. form-action names Coffer and, on pages whose forms end by sending
// the payer back to the service, that service's origin (browsers apply form-action to the
// redirect after a form post).
export function pageCsp(options: { formActionOrigins?: readonly string[] } = {}): string {
  const formAction = ["'self'", ...(options.formActionOrigins ?? [])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

/** The origin of a URL, for form-action; undefined when it is not an http(s) URL. */
export function originOf(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}
