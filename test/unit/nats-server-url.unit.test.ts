import { test } from "uvu";
import * as assert from "uvu/assert";
import { NatsUrlInvalidError } from "../../runtime/errors.ts";
import { checkServerUrls, serverUrlProblem } from "../../runtime/nats/server-url.ts";

test("every form the client connects with passes", () => {
  for (const ok of [
    "127.0.0.1",
    "127.0.0.1:4222",
    "nats://127.0.0.1:4222",
    "NATS://localhost",
    "tls://nats.example.com:4443",
    "nats://user:p%40ss@127.0.0.1:4222",
    "[::1]:4222",
    "nats://[::1]:4222",
    "localhost:0",
  ])
    assert.is(serverUrlProblem(ok), undefined, ok);
});

test("a malformed address names what is wrong with it", () => {
  assert.is(serverUrlProblem("127.0.0.1:4222x"), 'the port "4222x" is not a number from 0 to 65535');
  assert.is(serverUrlProblem("nats://127.0.0.1:99999"), 'the port "99999" is not a number from 0 to 65535');
  assert.is(serverUrlProblem("nats://host:"), 'the port "" is not a number from 0 to 65535');
  assert.is(serverUrlProblem("ws://127.0.0.1:4222"), "the scheme ws:// is not nats:// or tls://");
  assert.is(serverUrlProblem("http://127.0.0.1:4222"), "the scheme http:// is not nats:// or tls://");
  assert.is(serverUrlProblem("nats://"), "it names no host");
  assert.is(serverUrlProblem("[::1"), '"[::1" is not host:port');
  assert.is(serverUrlProblem("nats://bad host:4222"), '"bad host:4222" is not a valid host');
});

test("a list is refused at its first bad entry with a typed error naming the value (NATS_URL_INVALID)", () => {
  checkServerUrls(["nats://127.0.0.1:4222", "127.0.0.1:4223"]);
  try {
    checkServerUrls(["nats://127.0.0.1:4222", "127.0.0.1:4222x"]);
    assert.unreachable("expected NatsUrlInvalidError");
  } catch (err) {
    assert.instance(err, NatsUrlInvalidError);
    const e = err as NatsUrlInvalidError;
    assert.is(e.code, "NATS_URL_INVALID");
    assert.is(e.value, "127.0.0.1:4222x");
    assert.is(e.message, 'not a NATS server URL: "127.0.0.1:4222x": the port "4222x" is not a number from 0 to 65535');
  }
});

test.run();
