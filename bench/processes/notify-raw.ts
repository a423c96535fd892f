/**
 * The raw client's side of the `notify` bench: core NATS publish/subscribe on `bench.tick`.
 *   sub:    one subscription in queue group NAME (one per handler, as each jetbus actor has its
 *           own group), parsing each JSON body and counting `i`; prints "consumer running".
 *   pub:    prints "publisher ready", then on SIGUSR2 publishes N JSON bodies (a flush every
 *           1000), prints "published".
 *   sub-ce, pub-ce: the same with a CloudEvents binary-mode envelope written by hand (the ce-*
 *           headers jetbus sends: a new id and time per event), which the handler reads back.
 * Usage: tsx bench/processes/notify-raw.ts NATS_URL sub|sub-ce NAME N COUNT_OUT | NATS_URL pub|pub-ce N
 */
import { randomUUID } from "node:crypto";
import { connect, headers } from "@nats-io/transport-node";
import { eventCounter } from "../event-count.ts";
import { tickData } from "../notify-sides.ts";

const [url, role, ...rest] = process.argv.slice(2);
const nc = await connect({ servers: url!.split(",") });
const decoder = new TextDecoder();
const envelope = role === "sub-ce" || role === "pub-ce";
process.once("SIGTERM", () => void nc.drain().then(() => process.exit(0)));

if (role === "sub" || role === "sub-ce") {
  const [name, n, countOut] = rest;
  const counter = eventCounter(Number(n), countOut!);
  const seen = { id: "", type: "", time: "" };
  nc.subscribe("bench.tick", {
    queue: name,
    callback: (_err, m) => {
      if (envelope) {
        const h = m.headers!;
        seen.id = h.get("ce-id");
        seen.type = h.get("ce-type");
        seen.time = h.get("ce-time");
      }
      counter.record((JSON.parse(decoder.decode(m.data)) as { i: number }).i);
    },
  });
  await nc.flush();
  process.stdout.write("consumer running\n");
} else {
  const n = Number(rest[0]);
  process.once("SIGUSR2", () => {
    void (async () => {
      for (let i = 0; i < n; i++) {
        if (envelope) {
          const id = randomUUID();
          const h = headers();
          h.set("ce-specversion", "1.0");
          h.set("ce-id", id);
          h.set("ce-type", "BenchTick");
          h.set("ce-source", "bench");
          h.set("ce-time", new Date().toISOString());
          h.set("ce-correlationid", id);
          h.set("ce-dataversion", "1");
          h.set("content-type", "application/json");
          nc.publish("bench.tick", JSON.stringify(tickData(i)), { headers: h });
        } else nc.publish("bench.tick", JSON.stringify(tickData(i)));
        if (i % 1000 === 999) await nc.flush();
      }
      await nc.flush();
      process.stdout.write("published\n");
    })();
  });
  process.stdout.write("publisher ready\n");
}
