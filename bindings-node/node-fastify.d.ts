import type { JourneyHandlerOptions, JourneyService } from './dist/api';

/** The options of the Fastify plugin: createJourneyHandler's (its basePath is the register's `prefix`), and the service. */
export interface IproovJourneysOptions extends Omit<JourneyHandlerOptions, 'basePath'> {
  service: JourneyService;
  /** Fastify's: where the routes are mounted (`'/iproov'`). */
  prefix?: string;
}

/**
 * The journey endpoints and page as a Fastify plugin (encapsulated: its body handling stays in
 * its scope): `fastify.register(iproovJourneys, { service, resolveUser, prefix: '/iproov' })`.
 * `resolveUser` gets `(request, fastifyRequest, reply)`.
 */
export declare function iproovJourneys(fastify: any, options: IproovJourneysOptions): Promise<void>;
