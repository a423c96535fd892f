import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";

/**
 * W3C trace context for events, and OpenTelemetry spans when the application registers an SDK.
 * `@opentelemetry/api` is an optional peer dependency, looked up at run time: without it, or
 * without a registered SDK, spans cost a no-op and the traceparent header still flows through
 * router and actors unchanged. With one, publishing, routing and handling each record a span
 * whose parent is the event's traceparent, and the event carries the new span on: an inbox copy
 * names its route span, a follow-up event the handle span that published it.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
}

/** Same trace, new span id: the context a follow-up event or an inbox copy carries. */
export function childTraceparent(parent?: string): string {
  const m = parent ? TRACEPARENT.exec(parent) : null;
  if (!m) return newTraceparent();
  return `00-${m[1]}-${randomBytes(8).toString("hex")}-${m[3]}`;
}

/** The OpenTelemetry SpanKind values used here (the API's enum numbers). */
export const SpanKind = { Internal: 0, Producer: 3, Consumer: 4 } as const;
type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

type SpanContext = { traceId: string; spanId: string; traceFlags: number; isRemote?: boolean };
type OtelSpan = {
  setAttribute(k: string, v: unknown): void;
  recordException(e: unknown): void;
  setStatus(s: { code: number; message?: string }): void;
  isRecording(): boolean;
  spanContext(): SpanContext;
  end(): void;
};
type OtelApi = {
  trace: {
    getTracer(name: string): { startSpan(name: string, opts: { kind: number }, ctx: unknown): OtelSpan };
    setSpanContext(ctx: unknown, sc: SpanContext): unknown;
    setSpan(ctx: unknown, span: OtelSpan): unknown;
  };
  context: { active(): unknown; with<T>(ctx: unknown, fn: () => T): T };
  ProxyTracerProvider?: new () => { getDelegate(): unknown };
};

let otel: OtelApi | null | undefined;
function loadOtel(): OtelApi | null {
  if (otel !== undefined) return otel;
  try {
    otel = createRequire(import.meta.url)("@opentelemetry/api") as OtelApi;
  } catch {
    otel = null;
  }
  return otel;
}

let noopProvider: unknown;

/**
 * Whether an OpenTelemetry SDK is registered (the global tracer provider is not the API's no-op).
 * Hot paths ask this first: without an SDK, starting a span still builds a non-recording span
 * and a context per event.
 */
export function tracingActive(): boolean {
  const api = loadOtel();
  if (!api) return false;
  const provider = (api.trace as unknown as { getTracerProvider(): { getDelegate?(): unknown } }).getTracerProvider();
  if (typeof provider.getDelegate !== "function" || !api.ProxyTracerProvider) return true;
  // a fresh proxy's delegate is the API's one no-op provider
  noopProvider ??= new api.ProxyTracerProvider().getDelegate();
  return provider.getDelegate() !== noopProvider;
}

/** One recorded span, or nothing when no SDK records. */
export type SpanHandle = Readonly<{
  /** The span as a traceparent, for the event it passes on; undefined when nothing records. */
  traceparent?: string;
  /** Runs `fn` with the span as the active OpenTelemetry context (nested instrumentation sees it). */
  run<T>(fn: () => T): T;
  end(error?: unknown): void;
}>;

const NOOP: SpanHandle = { run: (fn) => fn(), end() {} };

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, "0");
}

/**
 * Starts a span named `name` whose parent is `traceparent` (a remote parent, as received in
 * an event's header), else the active context. Attributes are set under `jetbus.`.
 */
export function startEventSpan(
  name: string,
  attrs: Readonly<{ traceparent?: string; kind?: SpanKind; [k: string]: string | number | undefined }>,
): SpanHandle {
  const api = loadOtel();
  if (!api) return NOOP;
  let parent = api.context.active();
  const m = attrs.traceparent ? TRACEPARENT.exec(attrs.traceparent) : null;
  if (m) parent = api.trace.setSpanContext(parent, { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true });
  const span = api.trace.getTracer("jetbus").startSpan(name, { kind: attrs.kind ?? SpanKind.Internal }, parent);
  if (!span.isRecording()) return NOOP;
  for (const [k, v] of Object.entries(attrs))
    if (v !== undefined && k !== "traceparent" && k !== "kind") span.setAttribute(`jetbus.${k}`, v);
  const sc = span.spanContext();
  const active = api.trace.setSpan(parent, span);
  return {
    traceparent: `00-${sc.traceId}-${sc.spanId}-${hex2(sc.traceFlags)}`,
    run: (fn) => api.context.with(active, fn),
    end(error?: unknown) {
      if (error !== undefined) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: 2, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    },
  };
}

/** Ends `span` when `work` settles (with its error, if it fails) and passes the outcome on. */
export function endWith<T>(span: SpanHandle, work: Promise<T>): Promise<T> {
  if (span === NOOP) return work;
  return work.then(
    (v) => {
      span.end();
      return v;
    },
    (err: unknown) => {
      span.end(err);
      throw err;
    },
  );
}
