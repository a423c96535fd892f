// A stateful actor's keys in its Actors card: current state, revision, the event that last changed
// it, and one key's history on click. Read from GET /api/state; the answers are kept here so the
// card, re-drawn on every live snapshot, shows them without asking again.
import { h, fmtTime } from "../dom.js";
import { get } from "../api.js";

/** A stateful actor's keys are read again once its answer is older than a live tick (2 s). */
const STATEFUL_EVERY_MS = 1500;
/** An actor without a state bucket is asked again now and then: it gets one when a stateful version starts. */
const STATELESS_EVERY_MS = 30_000;

const answers = new Map(); // actor -> { at, body?, error?, asking }
const opened = new Map(); // actor -> { key, body?, error? }

function refresh(actor, redraw) {
  const a = answers.get(actor) ?? { at: 0, asking: false };
  answers.set(actor, a);
  const every = a.body && !a.body.stateful ? STATELESS_EVERY_MS : STATEFUL_EVERY_MS;
  if (a.asking || Date.now() - a.at < every) return;
  a.asking = true;
  get("/api/state", { actor })
    .then(
      (body) => Object.assign(a, { body, error: undefined }),
      (err) => Object.assign(a, { error: err.message }),
    )
    .finally(() => {
      Object.assign(a, { at: Date.now(), asking: false });
      const open = opened.get(actor);
      // the open key changed since its history was read: read it again
      const row = a.body?.keys?.find((k) => k.key === open?.key);
      const newest = open?.body?.revisions?.at(-1)?.revision;
      if (open && row && newest !== undefined && row.revision !== newest) openKey(actor, open.key, redraw);
      redraw();
    });
}

function openKey(actor, key, redraw) {
  const o = { key };
  opened.set(actor, o);
  redraw();
  get("/api/state", { actor, key })
    .then(
      (body) => Object.assign(o, { body }),
      (err) => Object.assign(o, { error: err.message }),
    )
    .finally(() => opened.get(actor) === o && redraw());
}

const show = (v) => JSON.stringify(v);

function eventLink(id) {
  // the link opens the event, not the key's history as well
  return id ? h("a", { href: `#/events?id=${encodeURIComponent(id)}`, onclick: (e) => e.stopPropagation() }, id) : "–";
}

function history(actor, open) {
  const rows = open.body ? [...open.body.revisions].reverse() : [];
  return h(
    "div",
    { "data-history": open.key },
    h("h3", {}, `history of ${open.key} `, h("span", { class: "muted" }, "newest first (the 64 newest revisions are kept)")),
    open.error
      ? h("p", { class: "msg bad" }, open.error)
      : !open.body
        ? h("p", { class: "muted" }, "loading…")
        : h(
            "table",
            {},
            h(
              "tr",
              {},
              ["revision", "state", "event", "at"].map((t) => h("th", {}, t)),
            ),
            rows.map((r) =>
              h(
                "tr",
                { "data-revision": r.revision },
                h("td", { class: "num" }, r.revision),
                h("td", { "data-field": "state" }, r.deleted ? h("span", { class: "muted" }, "(deleted)") : h("code", {}, show(r.state))),
                h("td", { "data-field": "event" }, eventLink(r.event)),
                h("td", {}, fmtTime(r.time)),
              ),
            ),
          ),
  );
}

/** The state part of an actor's card (nothing for an actor without state); `redraw` re-draws the view. */
export function stateSection(actor, redraw) {
  refresh(actor, redraw);
  const a = answers.get(actor);
  if (a.error && !a.body) return h("p", { class: "msg bad", "data-state": actor }, `state: ${a.error}`);
  if (!a.body?.stateful) return null;
  const { keys, total } = a.body;
  const open = opened.get(actor);
  return h(
    "div",
    { "data-state": actor },
    h(
      "h3",
      {},
      "state ",
      h(
        "span",
        { class: "muted", "data-field": "state-total" },
        total > keys.length ? `${keys.length} most recently changed of ${total} keys` : `${total} key(s)`,
        "; click a key for its history",
      ),
    ),
    keys.length === 0
      ? h("p", { class: "muted" }, "no key holds a state")
      : h(
          "table",
          {},
          h(
            "tr",
            {},
            ["key", "state", "revision", "last changed by", "at"].map((t) => h("th", {}, t)),
          ),
          keys.map((k) =>
            h(
              "tr",
              { class: open?.key === k.key ? "pick on" : "pick", "data-state-key": k.key, onclick: () => openKey(actor, k.key, redraw) },
              h("td", { "data-field": "key" }, k.key),
              h("td", { "data-field": "state" }, h("code", {}, show(k.state))),
              h("td", { class: "num", "data-field": "revision" }, k.revision),
              h("td", { "data-field": "event" }, eventLink(k.event)),
              h("td", {}, fmtTime(k.changed)),
            ),
          ),
        ),
    open ? history(actor, open) : null,
  );
}
