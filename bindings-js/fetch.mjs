// What the fetch adapter knows about its HTTP stack, and decides nothing with: which of core's
// transport failure names a fetch error is (core/src/driver/transport.rs decides what follows),
// how to read a body under core's cap, and how to make the platform send a request once.

// Node's fetch (undici) error codes, as core's transport failure names. Anything not named
// here may have reached iProov ('unknown'); a failure once the answer began is 'after_written'.
const FAILURES = {
  ENOTFOUND: 'dns', EAI_AGAIN: 'dns', EAI_FAIL: 'dns', EAI_NONAME: 'dns',
  ECONNREFUSED: 'connection_refused', ENETUNREACH: 'connection_refused', EHOSTUNREACH: 'connection_refused',
  EADDRNOTAVAIL: 'connection_refused', ENETDOWN: 'connection_refused', EHOSTDOWN: 'connection_refused',
  UND_ERR_CONNECT_TIMEOUT: 'connect_timeout', // not ETIMEDOUT: an established socket can give it too
  EPIPE: 'not_written', ERR_INVALID_URL: 'not_written', ERR_BAD_PORT: 'not_written',
  ECONNRESET: 'after_written', UND_ERR_SOCKET: 'after_written', UND_ERR_CLOSED: 'after_written',
};
const TLS = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_)/;

// workerd's fetch itself resends a GET or DELETE without a body, once, when a pooled connection
// fails before any answer (seen with workerd 1.20260426): a delete_user whose answer was lost
// would reach iProov twice. With an empty streamed body (Transfer-Encoding: chunked, no bytes)
// it sends the request exactly once, as core asks. (A repeated GET is harmless.)
const RESENDS_BODILESS = globalThis.navigator?.userAgent === 'Cloudflare-Workers';

/** The fetch body of a request core built (`undefined` for none). */
export function sendableBody(method, body) {
  if (body.length > 0) return body;
  if (method === 'DELETE' && RESENDS_BODILESS) return new ReadableStream({ start: (c) => c.close() });
  return undefined;
}

/** The transport failure name of a fetch error raised before any answer arrived. */
export function failureOf(error) {
  if (error?.cause?.message === 'bad port') return 'not_written'; // undici: a blocked port, before connecting
  for (let e = error, depth = 0; e && depth < 4; depth++, e = e.cause) {
    if (typeof e.code !== 'string') continue;
    if (FAILURES[e.code]) return FAILURES[e.code];
    if (TLS.test(e.code)) return 'tls';
  }
  return 'unknown';
}

/** The host's words for a failure (core redacts them before they go anywhere). */
export function causeText(error) {
  const cause = error?.cause?.message ? `: ${error.cause.message}` : '';
  return `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}${cause}`;
}

/** The whole body, or the first bytes past `limit` (decompressed; core then says body_too_large). */
export async function readBody(response, limit) {
  // An uncompressed body whose declared length is under the cap is read in one go (fetch's
  // own buffering is faster than a chunk loop); fetch stops at the declared length.
  const declared = Number(response.headers.get('content-length'));
  const encoded = response.headers.has('content-encoding');
  if (!encoded && Number.isSafeInteger(declared) && declared >= 0 && declared <= limit) {
    return new Uint8Array(await response.arrayBuffer());
  }
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(await response.arrayBuffer());
  const chunks = [];
  let size = 0;
  while (size <= limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  if (size > limit) await reader.cancel().catch(() => {});
  const out = new Uint8Array(size);
  for (let at = 0, i = 0; i < chunks.length; at += chunks[i].byteLength, i++) out.set(chunks[i], at);
  return out;
}
