import { h, mount, fmtTime } from "./dom.js";
import { connectLive, token } from "./api.js";
import * as flows from "./views/flows.js";
import * as actors from "./views/actors.js";
import * as events from "./views/events.js";
import * as trace from "./views/trace.js";
import * as held from "./views/held.js";
import * as config from "./views/config.js";
import * as cluster from "./views/cluster.js";
import * as projections from "./views/projections.js";

const VIEWS = [
  ["flows", "Flows", flows],
  ["actors", "Actors", actors],
  ["projections", "Projections", projections],
  ["events", "Events", events],
  ["trace", "Trace", trace],
  ["held", "Dead letters", held],
  ["config", "Config", config],
  ["cluster", "Cluster", cluster],
];

const view = document.getElementById("view");
const nav = document.getElementById("nav");
let cleanup = null;

/** `#/events?correlation=c1` -> ["events", URLSearchParams] */
function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const name = VIEWS.some(([n]) => n === path) ? path : "flows";
  return [name, new URLSearchParams(query ?? "")];
}

function show() {
  const [name, params] = route();
  mount(
    nav,
    VIEWS.map(([n, label]) => h("a", { href: `#/${n}`, class: n === name ? "on" : undefined }, label)),
  );
  if (typeof cleanup === "function") cleanup();
  view.replaceChildren();
  cleanup = VIEWS.find(([n]) => n === name)[2].render(view, params);
}

const tokenInput = document.getElementById("token");
tokenInput.value = token.get();
tokenInput.addEventListener("change", () => {
  token.set(tokenInput.value.trim());
  // "not allowed" no longer holds once a token is typed; the next change says whether it is the right one
  for (const n of document.querySelectorAll("[data-needs-token]")) n.remove();
});

const state = document.getElementById("live-state");
connectLive((s, snap) => {
  state.textContent = s === "live" ? `live · revision ${snap.revision ?? "local"} · ${fmtTime(snap.at)}` : s;
  state.className = s === "live" ? "muted" : "warn";
});

window.addEventListener("hashchange", show);
show();
