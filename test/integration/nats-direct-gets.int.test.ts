// DirectGets: the gets asked in one macrotask go out as one batched direct get per stream
// (multi_last), and every ask gets its own answer: the message, or null when the subject has none.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { DirectGets } from "../../runtime/nats/direct.ts";
import { startServer } from "../helpers/nats.ts";

test("asks of one turn are answered together, each with its own subject's last message or null; a lone ask is a plain get", async () => {
  const env = await startServer();
  const gets = new DirectGets(env.nc);
  try {
    const jsm = await jetstreamManager(env.nc);
    await jsm.streams.add({ name: "DG", subjects: ["dg.>"], allow_direct: true, max_msgs_per_subject: 1 });
    await jsm.streams.add({ name: "DG2", subjects: ["dg2.>"], allow_direct: true });
    const js = jetstream(env.nc);
    const enc = new TextEncoder();
    await js.publish("dg.a", enc.encode("a1"));
    await js.publish("dg.a", enc.encode("a2"));
    await js.publish("dg.b", enc.encode("b1"));
    await js.publish("dg2.x", enc.encode("x1"));
    // watch the requests leaving: one batched request for DG (several subjects, one repeated), one plain get for DG2
    const requests: string[] = [];
    const spy = env.nc.subscribe("$JS.API.DIRECT.GET.>", { callback: (_e, m) => void requests.push(m.subject) });
    await env.nc.flush();
    const [a, b, missing, aAgain, x] = await Promise.all([
      gets.lastBySubject("DG", "dg.a"),
      gets.lastBySubject("DG", "dg.b"),
      gets.lastBySubject("DG", "dg.none"),
      gets.lastBySubject("DG", "dg.a"),
      gets.lastBySubject("DG2", "dg2.x"),
    ]);
    assert.is(new TextDecoder().decode(a!.data), "a2");
    assert.is(a!.subject, "dg.a");
    assert.is(new TextDecoder().decode(b!.data), "b1");
    assert.is(missing, null);
    assert.is(aAgain!.seq, a!.seq);
    assert.is(new TextDecoder().decode(x!.data), "x1");
    await env.nc.flush();
    spy.unsubscribe();
    assert.equal(requests.sort(), ["$JS.API.DIRECT.GET.DG", "$JS.API.DIRECT.GET.DG2.dg2.x"]);
    // all missing: the server's 404 answers every ask with null
    assert.equal(await Promise.all([gets.lastBySubject("DG", "dg.n1"), gets.lastBySubject("DG", "dg.n2")]), [null, null]);
  } finally {
    gets.close();
    await env.stop();
  }
});

test.run();
