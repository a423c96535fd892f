import { h, s, mount, fmtRate, fmtNum, fmtAge, fmtTime } from "../dom.js";
import { onSnapshot } from "../api.js";

// Three columns (types, rules, actors) with a gutter between each two. A gutter is a curve region
// and then a label lane: every edge runs straight through the lane into its own port on the target,
// with its label on that straight run. Ports are ROW apart and a node is as tall as its ports need,
// so labels never meet one another, a node, or another edge's line, however many edges share a node.
const W = 210,
  H = 44,
  GAP = 16,
  ROW = 16,
  CURVE = 130,
  LANE = 150,
  PAD = 10,
  TOP = 36;
const COL = [PAD, PAD + W + CURVE + LANE, PAD + 2 * (W + CURVE + LANE)];
const WIDTH = COL[2] + W + PAD;
/** Unrouted and quarantined sit under the rules: the router set them aside instead of routing them. */
const COLUMN = { type: 0, rule: 1, unrouted: 1, quarantine: 1, actor: 2 };
/** Room above the set-aside nodes for their heading. */
const SET_ASIDE_GAP = 20;

function layout(graph) {
  const pos = new Map();
  const ins = new Map(),
    outs = new Map();
  const add = (m, k, e) => (m.get(k) ?? m.set(k, []).get(k)).push(e);
  const nodes = new Set(graph.nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => nodes.has(e.from) && nodes.has(e.to));
  for (const e of edges) {
    add(outs, e.from, e);
    add(ins, e.to, e);
  }
  const y = [TOP, TOP, TOP];
  let setAsideTop = null;
  for (const n of graph.nodes) {
    const c = COLUMN[n.kind];
    if ((n.kind === "unrouted" || n.kind === "quarantine") && setAsideTop === null) {
      y[c] += SET_ASIDE_GAP;
      setAsideTop = y[c];
    }
    const ports = Math.max(ins.get(n.id)?.length ?? 0, outs.get(n.id)?.length ?? 0);
    const height = Math.max(H, ROW * ports + 12);
    pos.set(n.id, { x: COL[c], y: y[c], h: height, n });
    y[c] += height + GAP;
  }
  // ports ordered by where the other end is, so edges cross each other less
  const at = new Map();
  const spread = (p, list, k) => p.y + p.h / 2 + (k - (list.length - 1) / 2) * ROW;
  for (const [id, list] of outs) {
    list.sort((a, b) => pos.get(a.to).y - pos.get(b.to).y);
    list.forEach((e, k) => at.set(e, { out: spread(pos.get(id), list, k) }));
  }
  for (const [id, list] of ins) {
    list.sort((a, b) => at.get(a).out - at.get(b).out);
    list.forEach((e, k) => (at.get(e).in = spread(pos.get(id), list, k)));
  }
  return { pos, edges, at, setAsideTop, height: Math.max(...y, 200) };
}

function actorText(n, actors, rate) {
  const a = actors.find((x) => `actor:${x.name}` === n.id);
  if (!a) return n.detail ?? "not in the config";
  return `${a.replicas.live}/${a.replicas.desired} up · ${rate(a.rate.handled)} · lag ${fmtNum(a.lag)}${a.dlq ? ` · DLQ ${a.dlq}` : ""}`;
}

function node(p, actors, rate) {
  const n = p.n;
  const sub =
    n.kind === "type"
      ? `${fmtNum(n.count)} stored · ${rate(n.rate ?? 0)}`
      : n.kind === "rule"
        ? n.detail
        : n.kind === "actor"
          ? actorText(n, actors, rate)
          : `${fmtNum(n.count)} held · ${rate(n.rate ?? 0)}`;
  return s(
    "g",
    { class: n.kind, "data-node": n.id, transform: `translate(${p.x},${p.y})` },
    s("title", {}, `${n.kind} ${n.label}`),
    s("rect", { width: W, height: p.h }),
    s("text", { x: 10, y: 18 }, n.label),
    s("text", { x: 10, y: 34, class: "sub" }, sub ?? ""),
  );
}

const name = (id) => id.replace(/^(type|rule|actor):/, (_, k) => (k === "rule" ? "rule " : ""));

/** What a person reads on an edge, and the sentence its tooltip says in full. */
function words(e, snap, rate) {
  const over = snap.rateWindowMs ? ` over the last ${fmtAge(snap.rateWindowMs)}` : " (measured from the next reading)";
  const since = snap.countingSince ? fmtTime(snap.countingSince) : "the next reading";
  if (e.to === "unrouted")
    return {
      label: `${rate(e.rate)} · ${fmtNum(e.count)} held`,
      title: `${name(e.from)} → unrouted: no rule matches it; ${rate(e.rate)}${over}; ${fmtNum(e.count)} event(s) held in JETBUS_UNROUTED`,
    };
  if (e.count !== undefined)
    return {
      label: `${rate(e.rate)} · ${fmtNum(e.count)} copies`,
      title: `${name(e.from)} → ${name(e.to)}: ${rate(e.rate)} copies${over}; ${fmtNum(e.count)} copies sent since this console started counting at ${since}`,
    };
  return { label: rate(e.rate), title: `${name(e.from)} → ${name(e.to)}: ${rate(e.rate)} events${over}` };
}

function edge(e, pos, at, snap, rate) {
  const a = pos.get(e.from),
    b = pos.get(e.to),
    y = at.get(e);
  const x1 = a.x + W,
    y1 = y.out,
    x2 = b.x,
    y2 = y.in,
    xe = x2 - LANE,
    cx = (x1 + xe) / 2;
  const width = 1 + Math.min(5, Math.log2(1 + e.rate));
  const cls = e.to === "unrouted" ? "lost" : e.rate > 0 ? "hot" : "";
  const w = words(e, snap, rate);
  return s(
    "g",
    { "data-edge": `${e.from}->${e.to}` },
    s("title", {}, w.title),
    s("path", { d: `M${x1},${y1} C${cx},${y1} ${cx},${y2} ${xe},${y2} L${x2},${y2}`, class: cls, "stroke-width": width }),
    // idle edges carry no label: a graph full of "0/s" hides the flows that move
    e.rate > 0 || e.count > 0 ? s("text", { x: x2 - 6, y: y2 - 4, class: "rate", "text-anchor": "end" }, w.label) : null,
  );
}

export function render(root) {
  return onSnapshot((snap) => {
    const { pos, edges, at, setAsideTop, height } = layout(snap.flows);
    // before the second reading a rate is not known yet: "–", not a zero that did not happen
    const rate = (r) => (snap.rateWindowMs ? fmtRate(r) : "–/s");
    const over = snap.rateWindowMs ? `rates over the last ${fmtAge(snap.rateWindowMs)}` : "rates from the next reading";
    mount(
      root,
      h("h2", {}, "Flows ", h("span", { class: "muted" }, `config ${snap.configSource} · ${over}`)),
      s(
        "svg",
        { class: "graph", viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height },
        s("text", { x: COL[0], y: 22, class: "sub" }, "EVENT TYPES"),
        s("text", { x: COL[1], y: 22, class: "sub" }, "RULES"),
        s("text", { x: COL[2], y: 22, class: "sub" }, "ACTORS"),
        setAsideTop === null ? null : s("text", { x: COL[1], y: setAsideTop - 8, class: "sub" }, "SET ASIDE BY THE ROUTER"),
        edges.map((e) => edge(e, pos, at, snap, rate)),
        [...pos.values()].map((p) => node(p, snap.actors, rate)),
      ),
      h(
        "p",
        { class: "muted", "data-legend": "" },
        `On the edges: events (or copies) per second${snap.rateWindowMs ? ` over the last ${fmtAge(snap.rateWindowMs)}` : ""}; `,
        `"copies": copies a rule sent to that actor since this console started counting${snap.countingSince ? ` (${fmtTime(snap.countingSince)})` : ""}; `,
        `"held": events of that type waiting in unrouted. Hover an edge for the whole sentence.`,
      ),
      h(
        "p",
        { class: "muted" },
        `store ${snap.store.stream}: ${fmtNum(snap.store.messages)} events · router lag ${fmtNum(snap.router.consumer.pending)} · ${snap.router.replicas.length} router replica(s)`,
      ),
    );
  });
}
