import { h, mount, fmtTime, json } from "../dom.js";
import { errorNote, get, post } from "../api.js";

const KINDS = [
  ["dlq", "Dead letters"],
  ["unrouted", "Unrouted"],
  ["quarantine", "Quarantined"],
];

function dlqTable(items, picked) {
  return h(
    "table",
    {},
    h(
      "tr",
      {},
      ["", "seq", "actor", "event", "type", "attempts", "code", "error", "time"].map((t) => h("th", {}, t)),
    ),
    items.map((d) =>
      h(
        "tr",
        { "data-dlq-seq": d.dlqSeq, "data-event-id": d.eventId },
        h(
          "td",
          {},
          h("input", {
            type: "checkbox",
            onchange: (e) => (e.target.checked ? picked.add(String(d.dlqSeq)) : picked.delete(String(d.dlqSeq))),
          }),
        ),
        h("td", { class: "num" }, d.dlqSeq),
        h("td", {}, d.actor),
        h("td", { class: "id" }, d.eventId),
        h("td", {}, d.type),
        h("td", { class: "num" }, d.attempts),
        h("td", {}, d.errorCode),
        h("td", { class: "bad" }, d.error),
        h("td", {}, fmtTime(d.time)),
      ),
    ),
  );
}

function heldTable(items, picked) {
  return h(
    "table",
    {},
    h(
      "tr",
      {},
      ["", "seq", "subject", "event", "reason / revision", "time", "body"].map((t) => h("th", {}, t)),
    ),
    items.map((m) =>
      h(
        "tr",
        { "data-held-seq": m.seq, "data-event-id": m.eventId },
        h("td", {}, h("input", { type: "checkbox", onchange: (e) => (e.target.checked ? picked.add(m.seq) : picked.delete(m.seq)) })),
        h("td", { class: "num" }, m.seq),
        h("td", {}, m.subject),
        h("td", { class: "id" }, m.eventId),
        h("td", {}, m.reason ? h("span", { class: "bad" }, m.reason) : `no rule matched (revision ${m.configRevision ?? "?"})`),
        h("td", {}, fmtTime(m.time)),
        h(
          "td",
          {},
          h("pre", {}, m.body.length > 300 ? m.body.slice(0, 300) + "…" : m.body),
          h("details", {}, h("summary", {}, "headers"), h("pre", {}, json(m.headers))),
        ),
      ),
    ),
  );
}

export function render(root, params) {
  const kind = params.get("kind") ?? "dlq";
  const actor = h("input", { id: "held-actor", value: params.get("actor") ?? "", placeholder: "all actors" });
  const list = h("div", {});
  const note = h("div", {});
  const picked = new Set();
  const load = async () => {
    picked.clear();
    try {
      const { items } = await get("/api/dead-letters", { kind, actor: kind === "dlq" ? actor.value.trim() : undefined });
      mount(
        list,
        items.length === 0
          ? h("p", { class: "muted", "data-empty": kind }, "nothing held")
          : kind === "dlq"
            ? dlqTable(items, picked)
            : heldTable(items, picked),
      );
    } catch (err) {
      mount(list, h("p", { class: "msg bad" }, err.message));
    }
  };
  const replay = async (body) => {
    try {
      const { replayed } = await post("/api/dead-letters/replay", { kind, ...body });
      const what = (r) =>
        r.outcome
          ? `${r.eventId}: ${r.outcome}${r.actors?.length ? ` → ${r.actors.join(", ")}` : ""}${r.stillFails ? ` (${r.stillFails})` : ""}`
          : `${r.eventId} → ${r.subject}`;
      mount(
        note,
        h("p", { class: "msg ok", "data-replayed": replayed.length }, `replayed ${replayed.length}: ${replayed.map(what).join(", ")}`),
      );
    } catch (err) {
      mount(note, errorNote(h, err));
    }
    await load();
  };
  mount(
    root,
    h("h2", {}, "Dead letters, unrouted and quarantined"),
    h(
      "div",
      { class: "bar" },
      KINDS.map(([k, label]) => h("a", { href: `#/held?kind=${k}`, class: k === kind ? "pill ok" : "pill" }, label)),
    ),
    kind === "dlq"
      ? h(
          "form",
          { class: "bar", onsubmit: (e) => (e.preventDefault(), load()) },
          h("label", { class: "f" }, "actor", actor),
          h("button", { type: "submit", class: "plain" }, "Filter"),
          h(
            "button",
            {
              type: "button",
              id: "replay-selected",
              onclick: () =>
                picked.size ? replay({ ids: [...picked] }) : mount(note, h("p", { class: "msg" }, "select dead letters first")),
            },
            "Replay selected",
          ),
          h(
            "button",
            {
              type: "button",
              class: "plain",
              onclick: () =>
                actor.value.trim()
                  ? replay({ actor: actor.value.trim() })
                  : mount(note, h("p", { class: "msg" }, "name an actor to replay all of its dead letters")),
            },
            "Replay all of actor",
          ),
        )
      : h(
          "div",
          { class: "bar" },
          h(
            "span",
            { class: "muted" },
            kind === "unrouted"
              ? "events no rule selected, with the config revision that saw them; replay routes them with the live rules"
              : "messages the router refused, with the reason; replay stores them again if they now pass",
          ),
          h(
            "button",
            {
              type: "button",
              id: "replay-selected",
              onclick: () => (picked.size ? replay({ seqs: [...picked] }) : mount(note, h("p", { class: "msg" }, "select messages first"))),
            },
            "Replay selected",
          ),
        ),
    note,
    list,
  );
  void load();
}
