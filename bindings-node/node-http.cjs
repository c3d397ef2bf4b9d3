'use strict';
// A web-standard handler (`(request, ...context) => Promise<Response>`, such as
// createJourneyHandler's) as a request listener for Node's `http` (and `https`, and
// Express, which calls listeners the same way). Only bytes move here: the request's method,
// URL, headers and body go in as a `Request`, the `Response`'s status, headers and body come
// out. The handler's context is `(req, res)`, so a resolveUser can read what the app's own
// middleware put on `req` (Express: `req.user`, `req.session`).
const { Readable } = require('node:stream');

/**
 * @param {(request: Request, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<Response>} handler
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next?: (error?: unknown) => void) => Promise<void>}
 *   the listener: `http.createServer(listener)` or Express's `app.use('/iproov', listener)`
 *   (mount it before any body parser: the handler reads the body itself). The URL is the
 *   one the client asked for (Express: `req.originalUrl`) on `http://` or, on a TLS socket,
 *   `https://`, with the Host header: behind a proxy that terminates TLS, give the handler
 *   the public origin in its `allowedOrigins`.
 */
function toNodeHandler(handler) {
  if (typeof handler !== 'function') throw new TypeError('handler must be a function (request) => Promise<Response>');
  return async function nodeListener(req, res, next) {
    try {
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
        init.body = Readable.toWeb(req);
        init.duplex = 'half';
      }
      const response = await handler(new Request(url, init), req, res);
      const out = {};
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') out[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) out['set-cookie'] = cookies;
      res.writeHead(response.status, out);
      res.end(response.body === null ? undefined : Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      // createJourneyHandler never throws; another handler's failure goes to Express's
      // error handling, or is a bare 500.
      if (typeof next === 'function') return next(error);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end();
    }
  };
}

module.exports = { toNodeHandler };
