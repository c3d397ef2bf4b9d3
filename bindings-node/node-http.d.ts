import type { IncomingMessage, ServerResponse } from 'node:http';

/** A Node `http` / Express / Connect request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

/** An Express / Connect error middleware (four parameters: called with an error only). */
export type NodeErrorMiddleware = (error: unknown, req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => Promise<void>;

/** A web-standard handler that gets Node's `req` and `res` after the request. */
export type NodeContextHandler = (request: Request, req: IncomingMessage, res: ServerResponse) => Promise<Response>;

/**
 * A web-standard handler (createJourneyHandler's) as a request listener for Node's `http`,
 * Express or Connect (`app.use('/iproov', toNodeHandler(handler))`, before or after a body
 * parser: the body is read from the request stream, or from what the parser left on `req`:
 * `req.rawBody`, else `req.body`). The handler gets `(request, req, res)`: a resolveUser can read
 * `req.user` or `req.session`.
 */
export declare function toNodeHandler(handler: NodeContextHandler): NodeListener;

/**
 * For Express: toNodeHandler's listener and an error middleware that answers a failure of the
 * app's body parser under the mount (malformed JSON, a body over the parser's limit) as core
 * answers that body, not with Express's HTML page: `app.use('/iproov', toExpressMiddleware(handler))`.
 */
export declare function toExpressMiddleware(handler: NodeContextHandler): [NodeListener, NodeErrorMiddleware];

/** The web `Request` of Node's `req` (its body: `body`, else what a parser left on `req`, else the stream). */
export declare function toWebRequest(req: IncomingMessage, body?: Uint8Array | ReadableStream<Uint8Array> | NodeJS.ReadableStream): Request;

/** Writes a web `Response` on Node's `res`. */
export declare function writeResponse(response: Response, res: ServerResponse): Promise<void>;
