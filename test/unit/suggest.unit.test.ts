import { test } from "uvu";
import * as assert from "uvu/assert";
import { didYouMean, editDistance, nearest } from "../../runtime/suggest.ts";

test("edit distance counts inserts, deletes and replacements", () => {
  assert.is(editDistance("retries", "retry"), 3);
  assert.is(editDistance("loglevel", "log_level"), 1);
  assert.is(editDistance("order-audti", "order-audit"), 2);
  assert.is(editDistance("", "abc"), 3);
  assert.is(editDistance("same", "same"), 0);
});

test("nearest suggests slips, not other words", () => {
  const actorKeys = [
    "name",
    "handler",
    "module",
    "concurrency",
    "replicas",
    "max_ack_pending",
    "ack_wait",
    "timeout",
    "retry",
    "dead_letter",
    "idempotency",
    "ordered",
    "options",
  ];
  assert.is(nearest("retries", actorKeys), "retry");
  assert.is(nearest("loglevel", ["http_port", "log_level", "console"]), "log_level");
  assert.is(nearest("logLevel", ["http_port", "log_level", "console"]), "log_level");
  assert.is(nearest("order-audti", ["order-audit", "email-handler"]), "order-audit");
  assert.is(nearest("bogus", ["nats", "store", "actors", "routes", "observability"]), undefined);
  assert.is(didYouMean("concurency", actorKeys), '; did you mean "concurrency"?');
  assert.is(didYouMean("zzz", actorKeys), "");
});

test.run();
