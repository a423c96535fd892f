/**
 * Counts the JetStream API requests a piece of work makes: a core subscription on `$JS.API.>`
 * (every request to the JetStream API, direct gets included, is a message on that subject and a
 * plain subscriber in the same account receives a copy) held while `work` runs, then a round trip
 * to the server so every request published before `work` ended has arrived. Run it against a
 * server nothing else uses. For benches and tests alike, e.g.
 *
 *   const calls = await countJsApiCalls(url, () => runCli(["history", "--limit", "1"]));
 *   assert.equal(calls.total, 1, calls.summary);
 */
import { connect } from "@nats-io/transport-node";

export type JsApiCalls = Readonly<{
  total: number;
  /** Requests per API, in the order first seen (e.g. "STREAM.INFO.EVENTS" -> 1). */
  bySubject: ReadonlyMap<string, number>;
  /** One line: "3 JetStream API requests: INFO x1, STREAM.INFO.EVENTS x1, DIRECT.GET.EVENTS x1". */
  summary: string;
}>;

const PREFIX = "$JS.API.";

export async function countJsApiCalls(url: string, work: () => Promise<unknown>): Promise<JsApiCalls> {
  const nc = await connect({ servers: url, name: "bench-js-api-counter" });
  const bySubject = new Map<string, number>();
  let total = 0;
  try {
    const sub = nc.subscribe(`${PREFIX}>`, {
      callback: (_err, msg) => {
        total++;
        const api = msg.subject.slice(PREFIX.length);
        bySubject.set(api, (bySubject.get(api) ?? 0) + 1);
      },
    });
    await nc.flush(); // the subscription is in place before the work starts
    await work();
    await nc.flush(); // everything the server routed to us before this point has arrived
    sub.unsubscribe();
  } finally {
    await nc.close();
  }
  const list = [...bySubject].map(([s, n]) => `${s} x${n}`).join(", ");
  return { total, bySubject, summary: `${total} JetStream API request${total === 1 ? "" : "s"}${list ? `: ${list}` : ""}` };
}
