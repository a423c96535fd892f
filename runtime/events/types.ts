/**
 * A jetbus event is a CloudEvents 1.0 event. The seed's Event fields map as:
 * ID→id, Type→type, Source→source, Timestamp→time, Data→data, Version→dataversion,
 * CorrelationID→correlationid (a CloudEvents extension, as is causationid).
 */
export type Event<D = unknown> = Readonly<{
  specversion: "1.0";
  id: string;
  type: string;
  source: string;
  /** RFC 3339 timestamp. */
  time: string;
  datacontenttype: string;
  data: D;
  /** Groups every event of one business flow; defaults to the id of the flow's first event. */
  correlationid: string;
  /** The id of the event whose handling produced this one. */
  causationid?: string;
  /** Version of the data's shape (the seed's Version). */
  dataversion: number;
  /** W3C trace context, carried through router and actors. */
  traceparent?: string;
}>;

/** What a producer supplies; the rest is filled in (id, time, correlation). */
export type NewEvent<D = unknown> = Readonly<{
  type: string;
  data: D;
  id?: string;
  source?: string;
  time?: string;
  correlationid?: string;
  causationid?: string;
  dataversion?: number;
  traceparent?: string;
}>;

/** The parts of a NATS message the codec reads: works for core messages, JsMsg and StoredMsg. */
export type WireMessage = Readonly<{
  subject: string;
  data: Uint8Array;
  headers?: ReadonlyHeaders;
  /** The same headers as received, unparsed (`NATS/1.0\r\nName: value...`); read instead of `headers` when present (faster). */
  headerBlock?: string;
  /** Stream sequence, when the message came from a stream. */
  seq?: number;
  /** Stream timestamp, when the message came from a stream. */
  timestamp?: Date;
  stream?: string;
}>;

export type ReadonlyHeaders = Readonly<{ get(key: string): string; has(key: string): boolean; keys(): string[] }>;

/** How a message carried its event, as the codec found it. */
export const EventForm = {
  Structured: "structured",
  Binary: "binary",
  Raw: "raw",
} as const;
export type EventForm = (typeof EventForm)[keyof typeof EventForm];

/**
 * Data type of each event type, filled in by the project: `jetbus types` generates a module that
 * augments this interface (`declare module "jetbus" { interface EventMap { UserCreated: UserCreated } }`).
 * Empty, every type's data is `unknown`; with entries, `bus.publish("UserCreated", data)` is checked.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface -- filled in by declaration merging
export interface EventMap {}

/**
 * The event types code may publish: EventMap's keys once the project has generated them (`jetbus
 * types`), so a misspelt or unknown type is a compile error; any string while the map is empty.
 * A type without a schema is published from typed code by naming it in EventMap yourself
 * (`declare module "jetbus" { interface EventMap { Pinged: unknown } }`).
 */
export type EventType = [keyof EventMap] extends [never] ? string : Extract<keyof EventMap, string>;

/** The data of event type `K`: its EventMap entry, or `unknown` for types the map does not name. */
export type EventData<K extends string> = K extends keyof EventMap ? EventMap[K] : unknown;
