#!/usr/bin/env node
// The layer check (`npm run layers`, part of `npm test`): runs dependency-cruiser with
// .dependency-cruiser.mjs over runtime/, actors/ and examples/, and fails (exit 1) on
//   - any rule violation: an upward or sideways import between layers, an import through a barrel
//     (mod.ts), a file cycle, a runtime/ folder or file that has no layer;
//   - a PENDING allowance that no import uses any more (delete it: the move is done);
//   - a cycle between runtime/ folders that is not made only of PENDING imports.
// It prints the folder cycles the PENDING imports still make, so the count is visible in every run.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PENDING } from "../.dependency-cruiser.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = spawnSync(
  process.execPath,
  [
    "node_modules/dependency-cruiser/bin/dependency-cruise.mjs",
    "runtime",
    "actors",
    "examples",
    "--config",
    ".dependency-cruiser.mjs",
    "--output-type",
    "json",
  ],
  { cwd: root, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
);
if (run.error || !run.stdout) {
  process.stderr.write(run.stderr || String(run.error));
  process.exit(2);
}
const { modules, summary } = JSON.parse(run.stdout);

let failed = false;
for (const v of summary.violations) {
  failed = true;
  const what = v.cycle ? v.cycle.map((c) => c.name ?? c).join(" -> ") : `${v.from} -> ${v.to}`;
  const rule = summary.ruleSetUsed.forbidden.find((r) => r.name === v.rule.name);
  process.stdout.write(`layers: ${v.rule.name}: ${what}\n  ${rule?.comment ?? ""}\n`);
}

// every import between files, and which of them a PENDING entry allows
const edges = modules.flatMap((m) =>
  m.dependencies.filter((d) => d.resolved && !d.coreModule).map((d) => ({ from: m.source, to: d.resolved })),
);
const allows = (p, e) => p.from === e.from && p.to.includes(e.to);
for (const p of PENDING)
  for (const to of p.to)
    if (!edges.some((e) => e.from === p.from && e.to === to)) {
      failed = true;
      process.stdout.write(`layers: PENDING allows ${p.from} -> ${to}, which no import uses any more: delete it\n`);
    }
const pendingUsed = edges.filter((e) => PENDING.some((p) => allows(p, e)));

// cycles between runtime/ folders (top-level files count as their own unit), by strongly connected components
const unitOf = (path) => {
  const m = /^runtime\/([^/]+)/.exec(path);
  return m ? m[1] : undefined;
};
const graph = new Map();
const edgeWhy = new Map(); // "a>b" -> { pending: bool }
for (const e of edges) {
  const a = unitOf(e.from),
    b = unitOf(e.to);
  if (!a || !b || a === b) continue;
  if (!graph.has(a)) graph.set(a, new Set());
  graph.get(a).add(b);
  const key = `${a}>${b}`;
  const pending = pendingUsed.includes(e);
  edgeWhy.set(key, { pending: (edgeWhy.get(key)?.pending ?? true) && pending });
}
const sccs = tarjan(graph).filter((c) => c.length > 1);
for (const scc of sccs) {
  const inside = [...edgeWhy.entries()].filter(([k]) => scc.includes(k.split(">")[0]) && scc.includes(k.split(">")[1]));
  // without the pending edges, is the component still a cycle?
  const solid = new Map(scc.map((u) => [u, new Set()]));
  for (const [k, w] of inside) if (!w.pending) solid.get(k.split(">")[0]).add(k.split(">")[1]);
  const still = tarjan(solid).filter((c) => c.length > 1);
  if (still.length) {
    failed = true;
    process.stdout.write(`layers: folder cycle ${still.map((c) => c.join(" <-> ")).join("; ")} (not only pending imports)\n`);
  }
}

const moves = [...new Set(PENDING.filter((p) => pendingUsed.some((e) => allows(p, e))).map((p) => p.move))];
process.stdout.write(
  `layers: ${modules.length} files, ${edges.length} imports; ${summary.violations.length} violations; ` +
    `${pendingUsed.length} pending imports` +
    (moves.length ? ` (allowed until the moves ${moves.join(", ")} are made, docs/architecture.md "Pending moves")` : "") +
    `; folder cycles: ${sccs.length ? sccs.map((c) => c.join(" <-> ")).join("; ") : "none"}\n`,
);
process.exit(failed ? 1 : 0);

/** Strongly connected components of a graph given as Map<node, Set<node>>. */
function tarjan(g) {
  let index = 0;
  const idx = new Map(),
    low = new Map(),
    on = new Set(),
    stack = [],
    out = [];
  const nodes = new Set([...g.keys(), ...[...g.values()].flatMap((s) => [...s])]);
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      out.push(c.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return out;
}
