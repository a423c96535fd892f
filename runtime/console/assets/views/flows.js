import { h, s, mount, fmtRate, fmtNum } from "../dom.js";
import { onSnapshot } from "../api.js";

const W = 230,
  H = 44,
  GAP = 14,
  COL = [20, 390, 760],
  TOP = 36;

/** Hand-laid-out columns: types -> rules -> actors; unrouted and quarantined under the actors. */
function layout(graph) {
  const cols = { type: [], rule: [], actor: [], unrouted: [], quarantine: [] };
  for (const n of graph.nodes) cols[n.kind].push(n);
  const pos = new Map();
  const place = (list, x, y0) => list.forEach((n, i) => pos.set(n.id, { x, y: y0 + i * (H + GAP), n }));
  place(cols.type, COL[0], TOP);
  place(cols.rule, COL[1], TOP);
  place(cols.actor, COL[2], TOP);
  place([...cols.unrouted, ...cols.quarantine], COL[2], TOP + Math.max(cols.actor.length, 1) * (H + GAP) + 24);
  const height = Math.max(...[...pos.values()].map((p) => p.y + H), 200) + 20;
  return { pos, height };
}

function actorText(n, actors) {
  const a = actors.find((x) => `actor:${x.name}` === n.id);
  if (!a) return n.detail ?? "not in the config";
  return `${a.replicas.live}/${a.replicas.desired} up · ${fmtRate(a.rate.handled)} · lag ${fmtNum(a.lag)}${a.dlq ? ` · DLQ ${a.dlq}` : ""}`;
}

function node(p, actors) {
  const n = p.n;
  const sub =
    n.kind === "type"
      ? `${fmtNum(n.count)} stored · ${fmtRate(n.rate ?? 0)}`
      : n.kind === "rule"
        ? n.detail
        : n.kind === "actor"
          ? actorText(n, actors)
          : `${fmtNum(n.count)} held · ${fmtRate(n.rate ?? 0)}`;
  return s(
    "g",
    { class: n.kind, "data-node": n.id, transform: `translate(${p.x},${p.y})` },
    s("title", {}, `${n.kind} ${n.label}`),
    s("rect", { width: W, height: H }),
    s("text", { x: 10, y: 18 }, n.label),
    s("text", { x: 10, y: 34, class: "sub" }, sub ?? ""),
  );
}

function edge(e, pos) {
  const a = pos.get(e.from),
    b = pos.get(e.to);
  if (!a || !b) return null;
  const x1 = a.x + W,
    y1 = a.y + H / 2,
    x2 = b.x,
    y2 = b.y + H / 2,
    mx = (x1 + x2) / 2;
  const width = 1 + Math.min(5, Math.log2(1 + e.rate));
  const cls = e.to === "unrouted" ? "lost" : e.rate > 0 ? "hot" : "";
  return s(
    "g",
    { "data-edge": `${e.from}->${e.to}` },
    s("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, class: cls, "stroke-width": width }),
    // idle edges carry no label: a graph full of "0/s" hides the flows that move
    e.rate > 0 || e.count > 0
      ? s(
          "text",
          { x: mx, y: (y1 + y2) / 2 - 4, class: "rate", "text-anchor": "middle" },
          fmtRate(e.rate) + (e.count ? ` · ${fmtNum(e.count)}` : ""),
        )
      : null,
  );
}

export function render(root) {
  return onSnapshot((snap) => {
    const { pos, height } = layout(snap.flows);
    mount(
      root,
      h("h2", {}, "Flows ", h("span", { class: "muted" }, `config ${snap.configSource} · rates over the last 2 s`)),
      s(
        "svg",
        { class: "graph", viewBox: `0 0 1010 ${height}`, height },
        s("text", { x: COL[0], y: 22, class: "sub" }, "EVENT TYPES"),
        s("text", { x: COL[1], y: 22, class: "sub" }, "RULES"),
        s("text", { x: COL[2], y: 22, class: "sub" }, "ACTORS"),
        snap.flows.edges.map((e) => edge(e, pos)),
        [...pos.values()].map((p) => node(p, snap.actors)),
      ),
      h(
        "p",
        { class: "muted" },
        `store ${snap.store.stream}: ${fmtNum(snap.store.messages)} events · router lag ${fmtNum(snap.router.consumer.pending)} · ${snap.router.replicas.length} router replica(s)`,
      ),
    );
  });
}
