import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";

/**
 * W3C trace context for events, and OpenTelemetry spans when the application has an OTel SDK.
 * `@opentelemetry/api` is looked up at run time, never a dependency: without it spans are no-ops
 * while the traceparent header still flows through router and actors.
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

export type SpanHandle = Readonly<{ end(error?: unknown): void }>;

type OtelApi = {
  trace: { getTracer(name: string): { startSpan(name: string, opts?: unknown, ctx?: unknown): { setAttribute(k: string, v: unknown): void; recordException(e: unknown): void; setStatus(s: { code: number; message?: string }): void; end(): void } } };
  context: { active(): unknown };
  propagation: { extract(ctx: unknown, carrier: Record<string, string>): unknown };
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

const NOOP: SpanHandle = { end() {} };

/** A span around handling one event, parented on the event's traceparent, when OTel is present. */
export function startEventSpan(name: string, attrs: Readonly<{ traceparent?: string; [k: string]: string | number | undefined }>): SpanHandle {
  const api = loadOtel();
  if (!api) return NOOP;
  const parent = attrs.traceparent ? api.propagation.extract(api.context.active(), { traceparent: attrs.traceparent }) : api.context.active();
  const span = api.trace.getTracer("jetbus").startSpan(name, {}, parent);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && k !== "traceparent") span.setAttribute(`jetbus.${k}`, v);
  return {
    end(error?: unknown) {
      if (error) {
        span.recordException(error);
        span.setStatus({ code: 2, message: (error as Error).message });
      }
      span.end();
    },
  };
}
