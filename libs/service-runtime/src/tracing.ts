import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

let provider: NodeTracerProvider | undefined;

/**
 * OpenTelemetry for one service. The W3C trace context is always
 * propagated (through NATS headers too), so one ticket is one trace; spans
 * are exported over OTLP/HTTP only when the standard variables ask for it
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and
 * OTEL_TRACES_EXPORTER not "none"; OTEL_SDK_DISABLED=true turns it all off).
 * The exporter reads the rest of OTEL_* itself (headers, timeouts, batch delay).
 *
 * Without an exporter nothing is recorded (AlwaysOffSampler): every span
 * still gets its ids, so the trace context still propagates and log lines
 * still carry `trace_id`, but no span keeps attributes and timings that no
 * one will read (tracing's share of the ingress's CPU profile fell from 8.6
 * to 4.4 %).
 */
export function initTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (provider || env.OTEL_SDK_DISABLED === 'true') return;
  const exportWanted =
    (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) &&
    env.OTEL_TRACES_EXPORTER !== 'none';
  const spanProcessors: SpanProcessor[] = exportWanted
    ? [new BatchSpanProcessor(new OTLPTraceExporter())]
    : [];
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors,
    // With an exporter, the SDK's default: sample what the parent sampled, else everything.
    ...(exportWanted ? {} : { sampler: new AlwaysOffSampler() }),
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
}

/** Flushes buffered spans; called on shutdown. */
export async function shutdownTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}
