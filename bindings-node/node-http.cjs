'use strict';
// A web-standard handler (`(request, ...context) => Promise<Response>`, such as
// createJourneyHandler's) as a request listener for Node's `http` (and `https`), Express and
// Connect, and as a Fastify plugin (node-fastify.cjs). Only bytes move here: the request's
// method, URL, headers and body go in as a `Request`, the `Response`'s status, headers and
// body come out. The handler's context is `(req, res)`, so a resolveUser can read what the
// app's own middleware put on `req` (Express: `req.user`, `req.session`).
//
// The body is read from wherever it is. Mounted before any body parser, the request stream is
// unread and the handler reads it (up to core's limit, no further). Behind one
// (`express.json()`, `express.raw()`, `express.text()`, `body-parser`, Nest's), the stream is
// spent and the parser left its result on `req`: the bytes it kept (`req.rawBody`, a Buffer or
// string, as `verify` callbacks and several frameworks keep it), else `req.body` (a Buffer or
// string as it is, anything else, a parsed JSON value, as its JSON). Core then decides on
// those bytes as on the original ones: the same checks, the same answers. A parser that failed
// (malformed JSON, a body over its own limit) never calls the listener: Express hands its error
// to error middleware, and `toExpressMiddleware` adds one for the mount that answers it as core
// does (the text the parser could not read, or a body of the size it refused).
const { Readable } = require('node:stream');

/**
 * Whether a parser already read the request's body: body-parser's mark (`_body`), or the
 * stream spent, as body-parser itself asks (on-finished's `isFinished`: complete and no longer
 * readable).
 */
function bodyWasRead(req) {
  return req._body === true || req.readableEnded === true || req.readableDidRead === true || (req.complete === true && req.readable === false);
}

/** The bytes of a body a parser left on `req`: what it kept raw, else what it made. */
function parsedBody(req) {
  const raw = req.rawBody;
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  const body = req.body;
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // A parsed JSON value (express.json, body-parser, Nest): its JSON, which core reads as it
  // read the original (a form's fields too: core refuses the form's content type anyway).
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** `size` bytes that are no longer there (a body a parser refused and dropped): zeros, made
 * as they are read, so that the handler's reading stops at core's limit as for the real one. */
function droppedBody(size) {
  let left = size;
  const chunk = new Uint8Array(16 * 1024);
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const n = Math.min(left, chunk.byteLength);
      left -= n;
      controller.enqueue(chunk.slice(0, n));
    },
  });
}

/**
 * A Node stream as a web one that, when the handler stops reading (a body past core's limit),
 * lets the rest drain instead of destroying the request: `Readable.toWeb` would destroy it and
 * with it the socket, and a client reusing that kept-alive connection would get a reset.
 * Node's own server drains an unread body the same way once the response is sent.
 */
function webStream(readable) {
  let onData;
  let onEnd;
  let onError;
  const detach = () => {
    readable.off('data', onData);
    readable.off('end', onEnd);
    readable.off('error', onError);
  };
  return new ReadableStream({
    start(controller) {
      onData = (chunk) => {
        controller.enqueue(typeof chunk === 'string' ? Buffer.from(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (controller.desiredSize <= 0) readable.pause();
      };
      onEnd = () => {
        detach();
        controller.close();
      };
      onError = (error) => {
        detach();
        controller.error(error);
      };
      readable.on('data', onData);
      readable.once('end', onEnd);
      readable.once('error', onError);
      readable.pause();
    },
    pull() {
      readable.resume();
    },
    cancel() {
      detach();
      readable.on('error', () => {}); // nothing to tell anyone any more
      readable.resume();
    },
  }, { highWaterMark: 1 });
}

/**
 * The web `Request` of Node's `req`: the URL the client asked for (Express: `req.originalUrl`)
 * on `http://` or, on a TLS socket, `https://`, with the Host header; its headers; and its
 * body: `body` if given (bytes or a stream), else the one a parser left on `req`, else the
 * request stream itself.
 */
function toWebRequest(req, body) {
  const scheme = req.socket && req.socket.encrypted ? 'https' : 'http';
  const url = new URL(req.originalUrl ?? req.url ?? '/', `${scheme}://${req.headers.host ?? 'localhost'}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const method = req.method ?? 'GET';
  const init = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    if (body === undefined) body = bodyWasRead(req) ? parsedBody(req) : req;
    if (body instanceof Readable) body = webStream(body);
    init.body = body;
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/** Writes a web `Response` on Node's `res` (Set-Cookie as separate headers). */
async function writeResponse(response, res) {
  const out = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  res.writeHead(response.status, out);
  res.end(response.body === null ? undefined : Buffer.from(await response.arrayBuffer()));
}

function checkHandler(handler) {
  if (typeof handler !== 'function') throw new TypeError('handler must be a function (request) => Promise<Response>');
}

/**
 * @param {(request: Request, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<Response>} handler
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next?: (error?: unknown) => void) => Promise<void>}
 *   the listener: `http.createServer(listener)`, or Express's `app.use('/iproov', listener)`
 *   before or after its body parsers. Behind a proxy that terminates TLS, give the handler the
 *   public origin in its `allowedOrigins`.
 */
function toNodeHandler(handler) {
  checkHandler(handler);
  return async function nodeListener(req, res, next) {
    try {
      await writeResponse(await handler(toWebRequest(req), req, res), res);
    } catch (error) {
      // createJourneyHandler never throws; another handler's failure goes to Express's
      // error handling, or is a bare 500.
      if (typeof next === 'function') return next(error);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end();
    }
  };
}

/**
 * The body of a request whose parser failed, as far as it can be given: the text it could not
 * parse or verify (body-parser's `entity.parse.failed`, `entity.verify.failed`: the error's
 * `body`), or a body of the size it refused (`entity.too.large`); `undefined` for any other
 * error, which stays the app's.
 */
function failedBody(error) {
  if (error === null || typeof error !== 'object') return undefined;
  if ((error.type === 'entity.parse.failed' || error.type === 'entity.verify.failed') && error.body !== undefined) {
    const body = error.body;
    if (body instanceof Uint8Array) return body;
    if (typeof body === 'string') return Buffer.from(body, 'utf8');
    return undefined;
  }
  if (error.type === 'entity.too.large') {
    const size = Number(error.expected ?? error.received ?? error.length ?? (error.limit ?? 0) + 1);
    return droppedBody(Number.isFinite(size) ? size : (error.limit ?? 0) + 1);
  }
  return undefined;
}

/**
 * For Express (and Connect): the listener and an error middleware for the mount, which
 * answers a failure of the app's body parser on a request under it as core answers that body
 * (malformed JSON: `bad_request`; too large: `payload_too_large`), where Express would send
 * its own HTML page. `app.use('/iproov', toExpressMiddleware(journeys))`, before or after the
 * body parsers.
 * @returns {[Function, Function]} `[listener, errorMiddleware]` (Express takes the array)
 */
function toExpressMiddleware(handler) {
  checkHandler(handler);
  const listener = toNodeHandler(handler);
  // Four parameters: Express calls it with an error only.
  async function bodyErrors(error, req, res, next) {
    const body = failedBody(error);
    if (body === undefined || res.headersSent) return next(error);
    try {
      await writeResponse(await handler(toWebRequest(req, body), req, res), res);
    } catch (failure) {
      next(failure);
    }
  }
  return [listener, bodyErrors];
}

module.exports = { toNodeHandler, toExpressMiddleware, toWebRequest, writeResponse };
