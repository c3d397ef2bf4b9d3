// OpenTelemetry's JS SDK with in-memory exporters, as the tests read it: the Node package's
// useOpenTelemetry pointed at a fresh tracer and meter provider, and what they recorded in the
// plain shape bindings-js/test/scenario-telemetry.mjs checks (spans with their parents, kinds,
// times in ms, events and status; metrics with their points).
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A metric reader collected on demand (the SDK's readers export on a timer). */
class InMemoryMetricReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

const ms = ([seconds, nanos]) => seconds * 1000 + nanos / 1e6;

/** A span as scenario-telemetry.mjs reads it. */
export function plainSpan(span) {
  return {
    name: span.name,
    kind: span.kind === SpanKind.CLIENT ? 'client' : span.kind === SpanKind.INTERNAL ? 'internal' : String(span.kind),
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    startMs: ms(span.startTime),
    endMs: ms(span.endTime),
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ name: e.name, attributes: { ...e.attributes } })),
    status: { code: span.status.code === SpanStatusCode.ERROR ? 'error' : span.status.code === SpanStatusCode.OK ? 'ok' : 'unset', message: span.status.message },
  };
}

/**
 * A capture for `api` (the Node package): `begin()` makes fresh providers and maps events onto
 * them (api.useOpenTelemetry); `collect()` gives `{spans, metrics}` recorded since.
 */
export function otelCapture(api) {
  let spans;
  let reader;
  return {
    async begin() {
      spans = new InMemorySpanExporter();
      reader = new InMemoryMetricReader();
      const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
      await api.useOpenTelemetry({ tracerProvider, meterProvider: new MeterProvider({ readers: [reader] }) });
    },
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`the metric reader failed: ${errors}`);
      const metrics = resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.map((m) => ({
          name: m.descriptor.name,
          unit: m.descriptor.unit,
          points: m.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: typeof p.value === 'number' ? p.value : p.value.count })),
        })),
      );
      return { spans: spans.getFinishedSpans().map(plainSpan), metrics };
    },
    stop() {
      api.stopOpenTelemetry();
    },
  };
}
