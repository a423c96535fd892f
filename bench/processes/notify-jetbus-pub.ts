/**
 * jetbus's publisher of the `notify` bench: EventBus.publish of BenchTick, which the config declares
 * a notification (`notifications.types`), so each one is a core publish on notify.BenchTick in the
 * binary CloudEvents form (a new id, time, schema check). Prints "publisher ready", then on SIGUSR2
 * publishes N (a flush every 1000), prints "published".
 * Usage: tsx bench/processes/notify-jetbus-pub.ts NATS_URL N CONFIG
 */
import { connectNats } from "../../runtime/nats/connect.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { notificationTypesOf } from "../../runtime/config/notifications.ts";
import { EventBus } from "../../runtime/store/bus.ts";
import { tickData } from "../notify-sides.ts";

const [url, n, configFile] = process.argv.slice(2);
const config = loadConfig(configFile);
const nc = await connectNats({ servers: url!.split(","), name: "bench-notify-pub" });
const bus = new EventBus(nc, { source: "bench", notifications: notificationTypesOf(config) });
process.once("SIGTERM", () => void nc.drain().then(() => process.exit(0)));
process.once("SIGUSR2", () => {
  void (async () => {
    for (let i = 0; i < Number(n); i++) {
      await bus.publish("BenchTick", tickData(i));
      if (i % 1000 === 999) await bus.flush();
    }
    await bus.flush();
    process.stdout.write("published\n");
  })();
});
process.stdout.write("publisher ready\n");
