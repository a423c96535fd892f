import { h, mount, fmtNum, fmtAge, fmtTime } from "../dom.js";
import { onSnapshot } from "../api.js";

// one projection's state in words: what `jetbus projection status` says in its STATE column
function stateOf(p) {
  if (!p.started) return ["not started", "warn"];
  if (p.stalled) return [`stalled at store sequence ${p.stalled.seq}: ${p.stalled.error}`, "bad"];
  const live = p.runners.filter((r) => r.version === p.version);
  if (live.length === 0) return ["no runner", "warn"];
  if (p.rebuilding) return [`rebuilding version ${p.rebuilding.version}`, "warn"];
  return p.lag === 0 ? ["caught up", "ok"] : ["catching up", "warn"];
}

const runnerText = (r) =>
  `${r.host ?? "?"} pid ${r.pid ?? "?"} · version ${r.version} · position ${fmtNum(r.position)} · lag ${fmtNum(r.pending)} · ${fmtNum(r.applied)} applied · seen ${fmtAge(r.ageMs)} ago`;

function row(p) {
  const [state, cls] = stateOf(p);
  return h(
    "tr",
    { "data-projection": p.name },
    h("td", {}, h("strong", {}, p.name), p.configured ? "" : h("span", { class: "muted" }, " (not configured)")),
    h("td", { class: "num" }, p.version ?? "–", p.previous ? h("span", { class: "muted" }, ` (was ${p.previous})`) : ""),
    h("td", { class: "num" }, fmtNum(p.position)),
    h("td", { class: "num", "data-lag": p.lag ?? "" }, fmtNum(p.lag)),
    h("td", {}, h("span", { class: `pill ${cls}` }, state)),
    h("td", {}, p.events.join(", ") || "–"),
    h(
      "td",
      {},
      p.runners.length ? p.runners.map((r) => h("div", { class: "muted" }, runnerText(r))) : h("span", { class: "muted" }, "none"),
    ),
  );
}

export function render(root) {
  const out = h("div", {});
  root.append(out);
  const stop = onSnapshot((snap) => {
    const list = snap.projections ?? [];
    mount(
      out,
      h(
        "p",
        { class: "muted" },
        "Read models built from the store. Position: every chosen event up to this store sequence is in the version readers use; " +
          `lag: chosen events stored after it, as the most advanced live runner last reported (${fmtTime(snap.at)}).`,
      ),
      list.length === 0
        ? h("p", { class: "muted" }, "no projections configured")
        : h(
            "table",
            {},
            h(
              "tr",
              {},
              ["projection", "version", "position", "lag", "state", "events", "runners"].map((t) => h("th", {}, t)),
            ),
            list.map(row),
            list.some((p) => p.switchedAt)
              ? list
                  .filter((p) => p.switchedAt)
                  .map((p) =>
                    h(
                      "tr",
                      {},
                      h(
                        "td",
                        { colspan: 7, class: "muted" },
                        `${p.name}: readers switched to version ${p.version} at ${fmtTime(p.switchedAt)}`,
                      ),
                    ),
                  )
              : null,
          ),
    );
  });
  return stop;
}
