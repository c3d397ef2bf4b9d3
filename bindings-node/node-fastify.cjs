'use strict';
// The journey endpoints as a Fastify plugin: `fastify.register(iproovJourneys, {service,
// resolveUser, prefix: '/iproov', ...})`, any other option being createJourneyHandler's. Every
// method and path under the prefix reaches the handler, so that what is not a route answers
// core's JSON (404, 405 with Allow) rather than Fastify's. Inside the plugin's scope (and only
// there: Fastify encapsulates it) no content-type parser reads the body: one catch-all parser
// hands the request's body stream on unread, and the handler reads it, up to core's limit and
// no further, so that core decides on the bytes the browser sent (a malformed body, a wrong
// content type, a body too large: core's answers, not Fastify's). Only bytes move here.
const { toWebRequest } = require('./node-http.cjs');

/**
 * @param {(service: object, options: object) => Function} createJourneyHandler the package's
 * @returns {(fastify: object, options: object) => Promise<void>} the plugin
 */
function makeFastifyPlugin(createJourneyHandler) {
  return async function iproovJourneys(fastify, options) {
    // The handler's basePath is the scope's prefix (`fastify.prefix`: the `prefix` option with
    // any parent's); Fastify's own register options (prefix, logLevel, ...) mean nothing to it.
    const { service, ...handlerOptions } = options ?? {};
    const journeys = createJourneyHandler(service, { ...handlerOptions, basePath: fastify.prefix });
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (request, payload, done) => done(null, payload));
    async function handle(request, reply) {
      // The parser's stream (a preParsing hook may have replaced the raw one), when it ran.
      const body = request.body !== undefined && typeof request.body?.pipe === 'function' ? request.body : undefined;
      const response = await journeys(toWebRequest(request.raw, body), request, reply);
      reply.code(response.status);
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') reply.header(name, value);
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) reply.header('set-cookie', cookies);
      return reply.send(response.body === null ? undefined : Buffer.from(await response.arrayBuffer()));
    }
    fastify.all('/', handle);
    fastify.all('/*', handle);
  };
}

module.exports = { makeFastifyPlugin };
