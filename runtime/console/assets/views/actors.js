import { h, s, mount, fmtRate, fmtNum, fmtAge, fmtTime } from "../dom.js";
import { onSnapshot } from "../api.js";
import { stateSection } from "./state.js";

function spark(handled, failed) {
  const W = 160,
    H = 30,
    n = Math.max(handled.length, 2);
  const max = Math.max(1, ...handled, ...failed);
  const pts = (vs) => vs.map((v, i) => `${((i / (n - 1)) * W).toFixed(1)},${(H - (v / max) * (H - 2) - 1).toFixed(1)}`).join(" ");
  return s(
    "svg",
    { class: "spark", width: W, height: H, viewBox: `0 0 ${W} ${H}` },
    s("polyline", { points: pts(handled), stroke: "#2f6fb5" }),
    s("polyline", { points: pts(failed), stroke: "#c62828" }),
  );
}

// durations arrive as the config writes them (30s, 24h): the server formats them with the config's one formatter
const settingsText = (c) =>
  [
    c.ordered ? `ordered by ${c.ordered.key} (${c.ordered.partitions} partitions)` : "unordered",
    `${c.retry.max_attempts} attempt(s), backoff ${c.retry.backoff.join(", ")}`,
    c.idempotency.enabled ? `idempotent (ttl ${c.idempotency.ttl})` : "no idempotency",
    `concurrency ${c.concurrency}`,
    `ack_wait ${c.ack_wait}`,
    c.timeout === null ? "no timeout" : `timeout ${c.timeout}`,
  ].join(" · ");

function card(a, hist, redraw, rate) {
  return h(
    "div",
    { class: "card", "data-actor": a.name },
    h(
      "div",
      { class: "bar" },
      h("strong", {}, a.name),
      h(
        "span",
        { class: a.replicas.live >= a.replicas.desired ? "pill ok" : "pill warn" },
        `${a.replicas.live}/${a.replicas.desired} replicas`,
      ),
      h("span", { class: "muted", "data-field": "settings" }, settingsText(a.settings)),
    ),
    h(
      "table",
      {},
      h(
        "tr",
        {},
        ["handled/s", "failed/s", "handled", "failed", "lag", "in flight", "redelivered", "DLQ", "last 5 min"].map((t) =>
          h("th", { class: "num" }, t),
        ),
      ),
      h(
        "tr",
        {},
        h("td", { class: "num", "data-field": "handled-rate" }, rate(a.rate.handled)),
        h("td", { class: "num" + (a.rate.failed > 0 ? " bad" : ""), "data-field": "failed-rate" }, rate(a.rate.failed)),
        h("td", { class: "num", "data-field": "handled-total" }, fmtNum(a.total.handled)),
        h("td", { class: "num", "data-field": "failed-total" }, fmtNum(a.total.failed)),
        h("td", { class: "num", "data-field": "lag" }, fmtNum(a.lag)),
        h("td", { class: "num" }, fmtNum(a.inFlight)),
        h("td", { class: "num" }, fmtNum(a.redeliveries)),
        h(
          "td",
          { class: "num" + (a.dlq > 0 ? " bad" : ""), "data-field": "dlq" },
          a.dlq > 0 ? h("a", { href: `#/held?kind=dlq&actor=${encodeURIComponent(a.name)}` }, fmtNum(a.dlq)) : fmtNum(a.dlq),
        ),
        h("td", {}, spark(hist?.handled ?? [], hist?.failed ?? [])),
      ),
    ),
    a.replicas.list.length
      ? h(
          "table",
          {},
          h(
            "tr",
            {},
            ["replica", "host", "pid", "since", "in flight", "heartbeat"].map((t) => h("th", {}, t)),
          ),
          a.replicas.list.map((r) =>
            h(
              "tr",
              {},
              h("td", {}, r.id),
              h("td", {}, r.host ?? "–"),
              h("td", {}, r.pid ?? "–"),
              h("td", {}, fmtTime(r.startedAt)),
              h("td", {}, fmtNum(r.inFlight)),
              h("td", {}, `${fmtAge(r.ageMs)} ago`),
            ),
          ),
        )
      : h("p", { class: "muted" }, "no live replica"),
    stateSection(a.name, redraw),
  );
}

export function render(root) {
  let last = null;
  const draw = () => {
    if (!last) return;
    // before the console's second reading no rate is known yet: "–", not a zero that did not happen
    const rate = (r) => (last.rateWindowMs ? fmtRate(r) : "–/s");
    mount(
      root,
      h(
        "h2",
        {},
        "Actors ",
        h(
          "span",
          { class: "muted" },
          `handled and failed per second${last.rateWindowMs ? ` over the last ${fmtAge(last.rateWindowMs)}` : ""} (blue, red); ` +
            `totals since this console began counting${last.countingSince ? ` (${fmtTime(last.countingSince).slice(11)})` : ""}`,
        ),
      ),
      last.actors.length
        ? last.actors.map((a) => card(a, last.history[a.name], draw, rate))
        : h("p", { class: "muted" }, "no actors configured"),
    );
  };
  const stop = onSnapshot((snap) => {
    last = snap;
    draw();
  });
  return () => {
    last = null;
    stop();
  };
}
