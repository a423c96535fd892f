/** The files `jetbus init` and `jetbus new actor` write: one example of each part of a jetbus project. */

export const EXAMPLE_EVENT = "UserSignedUp";
export const EXAMPLE_ACTOR = "welcome";

export function configTemplate(): object {
  return {
    $schema: "./node_modules/jetbus/schemas/config.schema.json",
    actors: [{ name: EXAMPLE_ACTOR, module: `./actors/${EXAMPLE_ACTOR}.ts` }],
    routes: {
      mode: "all-matches",
      rules: [{ name: "welcome-signups", match: { type: EXAMPLE_EVENT }, to: [EXAMPLE_ACTOR] }],
    },
  };
}

export function exampleSchema(): object {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: EXAMPLE_EVENT,
    description: "A user created an account",
    type: "object",
    additionalProperties: false,
    required: ["user_id", "email"],
    properties: {
      user_id: { type: "string", minLength: 1 },
      email: { type: "string", format: "email" },
      plan: { type: "string", enum: ["free", "pro"] },
    },
  };
}

/** A defineActor module; typed by the generated event types when the event type has a schema. */
export function actorTemplate(actor: string, eventType: string, typeName: string | undefined): string {
  const typed = typeName !== undefined;
  return [
    `import { defineActor } from "jetbus";`,
    ...(typed ? [`import type { ${typeName} } from "../types/events.js";`] : []),
    ``,
    `/** Routed here by the rules in jetbus.config.json that name "${actor}" (${eventType} events). Resolve to ack, throw to retry. */`,
    `export default defineActor${typed ? `<${typeName}>` : ""}({`,
    `  async handle(event, ctx) {`,
    typed && actor === EXAMPLE_ACTOR
      ? `    ctx.logger.info({ email: event.data.email, plan: event.data.plan ?? "free" }, "welcome!");`
      : `    ctx.logger.info({ id: event.id, data: event.data }, "${actor} handled ${eventType}");`,
    `  },`,
    `});`,
    ``,
  ].join("\n");
}

export function tsconfigTemplate(): object {
  return {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      // class handlers use tsyringe's decorators (@injectable, @inject)
      experimentalDecorators: true,
      // named, not left to the default: TypeScript 6 and later default `types` to none
      types: ["node"],
    },
    include: ["actors", "types"],
  };
}

export const PROJECT_SCRIPTS: Readonly<Record<string, string>> = {
  start: "jetbus up",
  dev: "jetbus up --watch",
  types: "jetbus types",
  validate: "jetbus config validate",
};

export const GITIGNORE_LINES = ["node_modules/", ".jetbus/"] as const;
