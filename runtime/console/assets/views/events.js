import { h, mount, fmtTime, json } from "../dom.js";
import { get } from "../api.js";

const FIELDS = [
  ["id", "event id"],
  ["type", "type"],
  ["correlation", "correlation id"],
  ["since", "since (15m or ISO time)"],
  ["until", "until"],
  ["limit", "limit"],
];

function attributes(e) {
  const { data: _data, ...attrs } = e;
  return attrs;
}

function where(d) {
  const aside = (d.setAside ?? []).map((x) =>
    h(
      "p",
      { class: x.kind === "quarantine" ? "bad" : "warn", "data-set-aside": x.kind },
      x.kind === "quarantine"
        ? `quarantined by the router (#${x.seq}): ${x.reason ?? "no reason recorded"}`
        : `unrouted (#${x.seq}): no rule of revision ${x.revision ?? "?"} matched`,
    ),
  );
  if (aside.length) return aside;
  if (d.malformed) return h("p", { class: "bad" }, "does not decode as an event: quarantined by the router");
  if (d.unrouted) return h("p", { class: "warn" }, `no rule of revision ${d.revision ?? "local"} matches it: unrouted`);
  return h(
    "table",
    {},
    h(
      "tr",
      {},
      ["rule", "actor", "outcome", "attempts", "when"].map((t) => h("th", {}, t)),
    ),
    d.routes.map((r) => {
      const dead = r.deadLetters[r.deadLetters.length - 1];
      const outcome = r.handled
        ? h("span", { class: "pill ok" }, "handled")
        : dead
          ? h("span", { class: "pill bad" }, `dead letter #${dead.seq}: ${dead.error ?? ""}`)
          : h("span", { class: "pill warn" }, "not handled yet");
      return h(
        "tr",
        { "data-route": r.actor },
        h("td", {}, r.rule),
        h("td", {}, r.actor),
        h("td", {}, outcome),
        h("td", {}, r.handled?.attempts ?? dead?.attempts ?? "–"),
        h("td", {}, fmtTime(r.handled?.at ?? dead?.at)),
      );
    }),
  );
}

async function showDetail(panel, seq) {
  mount(panel, h("p", { class: "muted" }, "loading…"));
  try {
    const d = await get("/api/events/detail", { seq });
    mount(
      panel,
      h(
        "h3",
        {},
        d.event ? `${d.event.type} ${d.event.id}` : `message #${seq}`,
        " ",
        d.event
          ? h(
              "a",
              { href: `#/trace?correlation=${encodeURIComponent(d.event.correlationid)}`, "data-action": "trace" },
              "trace its correlation",
            )
          : null,
      ),
      h("h3", {}, "Where it went"),
      where(d),
      d.event
        ? [
            h("h3", {}, "Data"),
            h("pre", {}, json(d.event.data)),
            h("h3", {}, "CloudEvents attributes"),
            h("pre", {}, json(attributes(d.event))),
          ]
        : h("pre", {}, d.body),
      h("h3", {}, "Headers"),
      h("pre", {}, json(d.headers)),
    );
  } catch (err) {
    mount(panel, h("p", { class: "msg bad" }, err.message));
  }
}

export function render(root, params) {
  const inputs = Object.fromEntries(
    FIELDS.map(([k]) => [k, h("input", { id: `q-${k}`, name: k, value: params.get(k) ?? "", size: k === "limit" ? 4 : 18 })]),
  );
  const results = h("div", {});
  const panel = h("div", {});
  let asked = 0;
  const search = async () => {
    const mine = ++asked;
    const q = Object.fromEntries(FIELDS.map(([k]) => [k, inputs[k].value.trim()]));
    // what the shown list answers, e.g. "correlation=c1" (tests and bookmarks read it)
    results.dataset.results = new URLSearchParams(Object.entries(q).filter(([, v]) => v)).toString();
    mount(results, h("p", { class: "muted" }, "searching…"));
    try {
      const { events } = await get("/api/events", q);
      if (mine !== asked) return; // a later search was started: its answer is the one to show
      mount(
        results,
        events.length === 0
          ? h("p", { class: "muted" }, "no events match")
          : h(
              "table",
              {},
              h(
                "tr",
                {},
                ["seq", "type", "id", "correlation", "source", "time"].map((t) => h("th", {}, t)),
              ),
              events.map((e) =>
                h(
                  "tr",
                  { class: "pick", "data-event-id": e.event.id, onclick: () => showDetail(panel, e.seq) },
                  h("td", { class: "num" }, e.seq),
                  h("td", {}, e.event.type),
                  h("td", {}, e.event.id),
                  h("td", {}, e.event.correlationid),
                  h("td", {}, e.event.source),
                  h("td", {}, fmtTime(e.event.time)),
                ),
              ),
            ),
      );
      if (events.length === 1) void showDetail(panel, events[0].seq);
    } catch (err) {
      mount(results, h("p", { class: "msg bad" }, err.message));
    }
  };
  mount(
    root,
    h("h2", {}, "Events"),
    h(
      "form",
      { class: "bar", onsubmit: (e) => (e.preventDefault(), search()) },
      FIELDS.map(([k, label]) => h("label", { class: "f" }, label, inputs[k])),
      h("button", { type: "submit", id: "search" }, "Search"),
    ),
    h("div", { class: "cols" }, results, panel),
  );
  void search();
}
