import type { IncomingMessage, ServerResponse } from 'node:http';

/** A Node `http` / Express request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

/**
 * A web-standard handler (createJourneyHandler's) as a request listener for Node's `http` or
 * Express (`app.use('/iproov', toNodeHandler(handler))`, before any body parser). The handler
 * gets `(request, req, res)`: a resolveUser can read `req.user` or `req.session`.
 */
export declare function toNodeHandler(
  handler: (request: Request, req: IncomingMessage, res: ServerResponse) => Promise<Response>,
): NodeListener;
