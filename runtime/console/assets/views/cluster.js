import { h, mount, fmtNum } from "../dom.js";
import { get } from "../api.js";

const peers = (x) =>
  x.peers.length === 0
    ? h("span", { class: "muted" }, "single server")
    : x.peers.map((p) =>
        h(
          "span",
          { class: `pill ${p.offline ? "bad" : p.current ? "ok" : "warn"}` },
          `${p.name}${p.offline ? " offline" : p.current ? "" : ` lag ${p.lag}`}`,
        ),
      );

export function render(root) {
  const out = h("div", {}, h("p", { class: "muted" }, "loading…"));
  const load = async () => {
    try {
      const c = await get("/api/cluster");
      mount(
        out,
        h(
          "h3",
          {},
          "Servers ",
          h(
            "span",
            { class: "muted" },
            c.systemAccount ? "(from $SYS)" : "(no $SYS access: from the connection and the stream replica lists)",
          ),
        ),
        h(
          "table",
          {},
          h(
            "tr",
            {},
            ["server", "version", "cluster", "connections", "cpu", "memory"].map((t) => h("th", {}, t)),
          ),
          c.servers.map((s) =>
            h(
              "tr",
              { "data-server": s.name },
              h("td", {}, s.name, s.name === c.connectedTo ? " (connected)" : ""),
              h("td", {}, s.version ?? "–"),
              h("td", {}, s.cluster ?? "–"),
              h("td", { class: "num" }, fmtNum(s.connections)),
              h("td", { class: "num" }, s.cpu ?? "–"),
              h("td", { class: "num" }, s.mem ? `${Math.round(s.mem / 1048576)} MiB` : "–"),
            ),
          ),
        ),
        h("h3", {}, "Streams"),
        h(
          "table",
          {},
          h(
            "tr",
            {},
            ["stream", "replicas", "leader", "replica health", "messages", "bytes"].map((t) => h("th", {}, t)),
          ),
          c.streams.map((s) =>
            h(
              "tr",
              { "data-stream": s.name },
              h("td", {}, s.name),
              h("td", { class: "num" }, s.replicas),
              h("td", {}, s.leader ?? "–"),
              h("td", {}, peers(s)),
              h("td", { class: "num" }, fmtNum(s.messages)),
              h("td", { class: "num" }, fmtNum(s.bytes)),
            ),
          ),
        ),
        h("h3", {}, "Durable consumers"),
        h(
          "table",
          {},
          h(
            "tr",
            {},
            ["stream", "consumer", "leader", "replica health", "pending", "in flight", "redelivered"].map((t) => h("th", {}, t)),
          ),
          c.consumers.map((x) =>
            h(
              "tr",
              {},
              h("td", {}, x.stream),
              h("td", {}, x.name),
              h("td", {}, x.leader ?? "–"),
              h("td", {}, peers(x)),
              h("td", { class: "num" }, fmtNum(x.pending)),
              h("td", { class: "num" }, fmtNum(x.ackPending)),
              h("td", { class: "num" }, fmtNum(x.redelivered)),
            ),
          ),
        ),
      );
    } catch (err) {
      mount(out, h("p", { class: "msg bad" }, err.message));
    }
  };
  mount(root, h("h2", {}, "Cluster ", h("button", { class: "plain", onclick: load }, "refresh")), out);
  void load();
}
