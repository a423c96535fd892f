// The JSON API and the one live event stream every view shares.
const TOKEN_KEY = "jetbus-console-token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set: (v) => (v ? sessionStorage.setItem(TOKEN_KEY, v) : sessionStorage.removeItem(TOKEN_KEY)),
};

/** A note that a change was refused for want of the admin token: the page removes it once a token is typed. */
export function errorNote(h, err) {
  const refused = err.status === 401 || err.status === 403;
  return h("p", { class: "msg bad", "data-needs-token": refused ? "" : undefined }, `${refused ? "not allowed: " : ""}${err.message}`);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body ?? {};
  }
}

async function answer(res) {
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

export async function get(path, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ""));
  return answer(await fetch(`${path}${q.size ? `?${q}` : ""}`));
}

export async function post(path, body) {
  const headers = { "content-type": "application/json" };
  if (token.get()) headers.authorization = `Bearer ${token.get()}`;
  return answer(await fetch(path, { method: "POST", headers, body: JSON.stringify(body) }));
}

const listeners = new Set();
// the snapshot the page was served with: views draw it at once, before the live stream's first tick
const served = document.getElementById("first-snapshot");
let last = served ? JSON.parse(served.textContent) : null;
let source = null;

/** Calls `fn` with every snapshot of /api/live (the latest one at once); returns the unsubscribe. */
export function onSnapshot(fn) {
  listeners.add(fn);
  if (last) fn(last);
  return () => listeners.delete(fn);
}

export function connectLive(onState) {
  if (last) onState("live", last);
  source = new EventSource("/api/live");
  source.addEventListener("snapshot", (e) => {
    last = JSON.parse(e.data);
    onState("live", last);
    for (const fn of listeners) fn(last);
  });
  source.addEventListener("failure", (e) => onState("failing", JSON.parse(e.data)));
  source.onerror = () => onState("reconnecting");
}
