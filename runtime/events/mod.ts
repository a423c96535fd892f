export type * from "./types.ts";
export { EventForm } from "./types.ts";
export {
  createEvent,
  decodeEvent,
  encodeEvent,
  eventFromJson,
  Header,
  DEFAULT_MAX_BYTES,
  DEFAULT_SOURCE,
  JSON_CONTENT_TYPE,
  STRUCTURED_CONTENT_TYPE,
} from "./codec.ts";
export { EVENTS_PREFIX, assertEventType, subjectForType, tokenFor, typeFromSubject } from "./subjects.ts";
