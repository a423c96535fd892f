// The layers of runtime/ (docs/architecture.md says why each sits where it does), as
// dependency-cruiser rules. `npm run layers` (bin/layers.js, also run by `npm test`) checks them and
// the folder cycles; `npx depcruise runtime actors examples` reads this file too.
//
// A folder (or a top-level file) may import only folders of the layers BELOW its own: never up,
// never sideways into another folder of its layer. Nothing imports a barrel (`mod.ts`), the errors
// folder is imported through its face (runtime/errors.ts), and the package's entry files
// (runtime/mod.ts, runtime/di.ts) are imported by nothing in the tree.

/** Bottom to top. `units`: folders of runtime/ (or runtime/<file>.ts, or a top-level folder ending in /). */
export const LAYERS = [
  {
    name: "base",
    units: ["topology.ts", "log.ts", "suggest.ts", "package-root.ts", "project-module.ts"],
    why: "names of streams and subjects, the logger, spelling hints, the package's root, loading a project's modules: leaf files",
  },
  { name: "errors", units: ["errors", "errors.ts"], why: "typed errors with stable codes: every layer above may throw them" },
  {
    name: "events",
    units: ["events", "typegen"],
    why: "the event language (types, subjects, codecs, type patterns, versions) and the JSON Schema to TypeScript translation: data, no connection",
  },
  {
    name: "config",
    units: ["config"],
    why: "the config language and every check of it (routes, filters, transforms, direct actors, notifications): it names event types, so it sits on events",
  },
  { name: "nats", units: ["nats"], why: "the NATS client: connecting, errors by class and API code, direct gets, the server binary" },
  {
    name: "machinery",
    units: ["consumer", "presence", "observability"],
    why: "the one consume loop, replica heartbeats, metrics, tracing and health: used by the store, the actors and the router",
  },
  { name: "store", units: ["store"], why: "the event store: stream, publishing, queries, indexer" },
  {
    name: "aggregate",
    units: ["aggregate"],
    why: "event-sourced entities: guarded appends on the store's entity subjects, snapshots, time travel",
  },
  { name: "actor", units: ["actor"], why: "the actor runtime: inbox, workers, policies, state, timers" },
  { name: "routing", units: ["routing"], why: "the router actor: it routes into the actors' inboxes, so it sits on them" },
  { name: "notify", units: ["notify"], why: "notifications: applies routing's rules in the actor's process and calls its handlers" },
  {
    name: "operations",
    units: ["operations", "cluster", "../actors/"],
    why: "what an operator asks of a running system (status, trace, replay), cluster checks, and the seed's sample actors",
  },
  {
    name: "projection",
    units: ["projection"],
    why: "read models kept from the store: runners, rebuild, status (read by operations' KV helpers)",
  },
  { name: "console", units: ["console"], why: "the web console: reads through operations" },
  { name: "app", units: ["app"], why: "a jetbus process assembled: runtime, services, embedding" },
  {
    name: "faces",
    units: ["mod.ts", "di.ts", "demo"],
    why: "the package's entry files (jetbus, jetbus/di) and the demo, each a user of the app layer",
  },
  { name: "cli", units: ["cli"], why: "the jetbus command: the top" },
];

/**
 * Imports that break the layers and are allowed only until a move named in docs/architecture.md
 * ("Pending moves") is made: `{ from, to: [files], move, why }`, each listed by `npm run layers`,
 * and a folder cycle made only of them is reported but passes. None today: the rules, cli-support
 * and barrels moves are made. An entry that no import needs any more fails the check: delete it.
 */
export const PENDING = [];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The paths a unit covers, as a regular expression on paths from the repository root. */
export function unitPattern(unit) {
  if (unit.startsWith("../")) return `^${esc(unit.slice(3))}`;
  if (unit.endsWith(".ts")) return `^runtime/${esc(unit)}$`;
  return `^runtime/${esc(unit)}/`;
}
const anyOf = (patterns) => (patterns.length === 1 ? patterns[0] : `(${patterns.join("|")})`);
const exact = (paths) => paths.map((p) => `^${esc(p)}$`);

/** One rule per unit: it may import nothing of its own layer's other units or of any layer above. */
function layerRules() {
  const rules = [];
  LAYERS.forEach((layer, i) => {
    const below = LAYERS.slice(0, i).map((l) => l.name);
    for (const unit of layer.units) {
      const forbidden = LAYERS.slice(i)
        .flatMap((l) => l.units)
        .filter((u) => u !== unit && !(unit === "errors" && u === "errors.ts") && !(unit === "errors.ts" && u === "errors"));
      if (forbidden.length === 0) continue;
      const name = `layer-${unit.replace(/^\.\.\//, "").replace(/\/$/, "")}`;
      const comment =
        `${unit} sits in layer "${layer.name}" (${layer.why}); it may import only ${below.length ? below.join(", ") : "nothing of jetbus"}. ` +
        "Move the imported code down or the importing code up (docs/architecture.md).";
      const pendingHere = PENDING.filter((p) => new RegExp(unitPattern(unit)).test(p.from));
      rules.push({
        name,
        comment,
        severity: "error",
        from: { path: unitPattern(unit), ...(pendingHere.length ? { pathNot: exact(pendingHere.map((p) => p.from)) } : {}) },
        to: { path: anyOf(forbidden.map(unitPattern)) },
      });
      for (const p of pendingHere)
        rules.push({
          name,
          comment,
          severity: "error",
          from: { path: exact([p.from])[0] },
          to: { path: anyOf(forbidden.map(unitPattern)), pathNot: exact(p.to) },
        });
    }
  });
  return rules;
}

const placed = anyOf(LAYERS.flatMap((l) => l.units).map(unitPattern));
const barrelPending = PENDING.filter((p) => p.to.some((t) => t.endsWith("/mod.ts")));

export default {
  forbidden: [
    ...layerRules(),
    {
      name: "no-barrel",
      comment:
        "A folder's mod.ts re-exports its files, so importing one name loads them all (and cycles hide behind it): import the file that defines the name.",
      severity: "error",
      from: { pathNot: exact(barrelPending.map((p) => p.from)) },
      to: { path: "^runtime/.+/mod\\.ts$" },
    },
    ...barrelPending.map((p) => ({
      name: "no-barrel",
      comment: "see no-barrel above",
      severity: "error",
      from: { path: exact([p.from])[0] },
      to: { path: "^runtime/.+/mod\\.ts$", pathNot: exact(p.to) },
    })),
    {
      name: "errors-through-its-face",
      comment: "The errors folder is imported through runtime/errors.ts (the jetbus/errors entry), never file by file.",
      severity: "error",
      from: { pathNot: "^runtime/errors(/|\\.ts$)" },
      to: { path: "^runtime/errors/" },
    },
    {
      name: "entries-are-the-top",
      comment: "runtime/mod.ts and runtime/di.ts are the package's entries, for its users: nothing in the tree imports them.",
      severity: "error",
      from: { path: "^(runtime|actors)/" },
      to: { path: "^runtime/(mod|di)\\.ts$" },
    },
    {
      name: "examples-use-the-package",
      comment: "An example imports what a user can: the entry files runtime/mod.ts, runtime/di.ts, runtime/errors.ts.",
      severity: "error",
      from: { path: "^examples/" },
      to: { path: "^runtime/", pathNot: "^runtime/(mod|di|errors)\\.ts$" },
    },
    {
      name: "not-in-a-layer",
      comment: "Every folder and top-level file of runtime/ has a line in LAYERS (.dependency-cruiser.mjs) and in docs/architecture.md.",
      severity: "error",
      from: { path: "^runtime/", pathNot: placed },
      to: {},
    },
    {
      name: "no-circular",
      comment: "Files that import each other in a loop: one of them holds what both need, or a third file should.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^(runtime|actors|examples)/",
    exclude: { path: "\\.d\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
