/** Where OpenTelemetry's spans and metrics go: the providers of `@opentelemetry/api` (structurally). */
export interface OpenTelemetryOptions {
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: { getMeter(name: string, version?: string): unknown };
}

/**
 * Maps core's telemetry events onto OpenTelemetry from now on (as Python's
 * `use_opentelemetry`): a span per call (`iproov.call`) with a client span per HTTP request
 * under it (`iproov.send`; retries and token fetches as its span events), a span per journey
 * request (`iproov.journey`), and the metrics `iproov.client.calls`,
 * `iproov.client.call.duration` (ms), `iproov.journeys` and `iproov.journey.attempts`. Imports
 * `@opentelemetry/api` (an optional peer dependency) now: rejects when it is not installed.
 */
export declare function useOpenTelemetry(options?: OpenTelemetryOptions): Promise<void>;

/** Stops mapping events onto OpenTelemetry. */
export declare function stopOpenTelemetry(): void;
