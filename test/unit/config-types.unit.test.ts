import { test } from "uvu";
import * as assert from "uvu/assert";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OUTPUT, renderConfigTypes, SCHEMA_FILES } from "../../bin/gen-config-types.ts";
import { SCHEMA_DIR } from "../../runtime/config/validate.ts";
import type * as Schema from "../../runtime/config/schema-types.ts";
import type {
  ActorSettings,
  DataFilter,
  JetbusConfig,
  NatsSettings,
  NotificationSettings,
  ProjectionSettings,
  ObservabilitySettings,
  RouteRule,
  RouteSettings,
  StoreSettings,
  Transform,
} from "../../runtime/config/types.ts";

/*
 * The hand-written config types (runtime/config/types.ts) against the types generated from the JSON
 * schemas (runtime/config/schema-types.ts). The checks below are types: when a key, its type, or
 * whether it is optional differs, `npx tsc --noEmit` (the first step of `npm test`) fails on the
 * line naming the type. The test at the bottom fails when a schema changed without the generated
 * file being rewritten (`npm run gen:config-types`).
 */

/** Object types flattened and compared member by member (an intersection equals the object it spells). */
type Normalize<T> = T extends readonly (infer E)[] ? Normalize<E>[] : T extends object ? { [K in keyof T]: Normalize<T[K]> } : T;
/** True only when A and B are the same type: same keys, same optionality, same member types. */
type Same<A, B> = (<T>() => T extends Normalize<A> ? 1 : 2) extends <T>() => T extends Normalize<B> ? 1 : 2 ? true : false;
/** A compile error unless `T` is `true`. */
function sameType<T extends true>(): T | undefined {
  return undefined;
}

sameType<Same<JetbusConfig, Schema.Config>>();
sameType<Same<NatsSettings, Schema.ConfigNats>>();
sameType<Same<StoreSettings, Schema.ConfigStore>>();
sameType<Same<ObservabilitySettings, Schema.ConfigObservability>>();
sameType<Same<ActorSettings, Schema.Actor>>();
sameType<Same<RouteSettings, Schema.Routes>>();
sameType<Same<RouteRule, Schema.RoutesRule>>();
sameType<Same<DataFilter, Schema.RoutesFilter>>();
sameType<Same<Transform, Schema.RoutesTransform>>();
sameType<Same<NotificationSettings, Schema.ConfigNotifications>>();
sameType<Same<ProjectionSettings, Schema.ConfigProjection>>();

test("runtime/config/schema-types.ts is what the schemas generate now", () => {
  const committed = readFileSync(OUTPUT, "utf8");
  assert.fixture(
    committed,
    renderConfigTypes(SCHEMA_DIR),
    "a schema changed: run `npm run gen:config-types` and make runtime/config/types.ts match",
  );
});

test("the generator refuses schema keywords it does not understand (a schema cannot outgrow the check)", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-schemas-"));
  try {
    for (const f of Object.values(SCHEMA_FILES)) copyFileSync(join(SCHEMA_DIR, f), join(dir, f));
    const actor = JSON.parse(readFileSync(join(dir, SCHEMA_FILES.actor), "utf8"));
    actor.properties.concurrency = { oneOf: [{ type: "integer" }, { const: "auto" }] };
    writeFileSync(join(dir, SCHEMA_FILES.actor), JSON.stringify(actor));
    assert.throws(() => renderConfigTypes(dir), /actor#\/properties\/concurrency: schema keyword "oneOf" is not understood/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
