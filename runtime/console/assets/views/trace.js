import { h, mount, fmtTime } from "../dom.js";
import { get } from "../api.js";

/** How long after the event's time its handling was recorded: publish-to-done latency. */
function after(from, to) {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`) : "?";
}

function node(n) {
  const e = n.event;
  return h(
    "li",
    { "data-trace-event": e.id },
    h(
      "div",
      {},
      h("strong", {}, e.type),
      " ",
      h("span", {}, e.id),
      " ",
      h("span", { class: "muted" }, `#${n.seq ?? "?"} · ${fmtTime(e.time)} · ${e.source}`),
      n.missingCause ? h("span", { class: "pill warn" }, `cause ${n.missingCause} not found`) : null,
    ),
    h(
      "div",
      {},
      n.handled.map((x) =>
        h(
          "span",
          { class: "pill ok", "data-handled": x.actor },
          `✓ ${x.actor}${x.attempts ? ` · ${x.attempts} attempt(s)` : ""}${x.at ? ` · ${fmtTime(x.at)} (${after(e.time, x.at)} after the event)` : ""}`,
        ),
      ),
      n.deadLetters.map((d) =>
        h("span", { class: "pill bad" }, `✗ ${d.actor} dead-lettered${d.attempts ? ` after ${d.attempts}` : ""}: ${d.error ?? ""}`),
      ),
      n.waiting.map((a) => h("span", { class: "pill warn" }, `… ${a} waiting`)),
    ),
    n.children.length ? h("ul", { class: "tree" }, n.children.map(node)) : null,
  );
}

export function render(root, params) {
  const input = h("input", { id: "trace-correlation", value: params.get("correlation") ?? "", size: 40 });
  const out = h("div", {});
  const run = async () => {
    const c = input.value.trim();
    if (!c) return mount(out, h("p", { class: "muted" }, "enter a correlation id (or open one from Events)"));
    mount(out, h("p", { class: "muted" }, "tracing…"));
    try {
      const t = await get("/api/trace", { correlation: c });
      mount(
        out,
        h(
          "p",
          { "data-trace-summary": "" },
          `correlation ${t.correlationId}: ${t.events} event(s), ${t.handled} handling(s), ${t.deadLettered} dead letter(s)`,
        ),
        t.events ? h("ul", { class: "tree root" }, t.roots.map(node)) : h("p", { class: "muted" }, "no events with this correlation id"),
      );
    } catch (err) {
      mount(out, h("p", { class: "msg bad" }, err.message));
    }
  };
  mount(
    root,
    h("h2", {}, "Trace"),
    h(
      "form",
      { class: "bar", onsubmit: (e) => (e.preventDefault(), run()) },
      h("label", { class: "f" }, "correlation id", input),
      h("button", { type: "submit" }, "Trace"),
    ),
    out,
  );
  void run();
}
