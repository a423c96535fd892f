import { h, mount, fmtTime, json } from "../dom.js";
import { errorNote, get, post } from "../api.js";

/** Line diff by longest common subsequence: fine for config documents of a few hundred lines. */
function diffLines(a, b) {
  const x = a.split("\n"),
    y = b.split("\n");
  const m = x.length,
    n = y.length;
  const L = Array.from({ length: m + 1 }, () => new Uint16Array(n + 1));
  for (let i = m - 1; i >= 0; i--)
    for (let j = n - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out = [];
  let i = 0,
    j = 0;
  while (i < m && j < n) {
    if (x[i] === y[j]) (out.push([" ", x[i++]]), j++);
    else if (L[i + 1][j] >= L[i][j + 1]) out.push(["-", x[i++]]);
    else out.push(["+", y[j++]]);
  }
  while (i < m) out.push(["-", x[i++]]);
  while (j < n) out.push(["+", y[j++]]);
  return out;
}

function diffView(a, b) {
  return h(
    "div",
    { class: "diff", "data-diff": "" },
    diffLines(a, b).map(([k, line]) => h("div", { class: k === "+" ? "add" : k === "-" ? "del" : undefined }, `${k} ${line}`)),
  );
}

function problemsView(problems) {
  return h(
    "div",
    { class: "msg bad", "data-problems": problems.length },
    h("strong", {}, `${problems.length} problem(s): nothing was applied`),
    h(
      "ul",
      {},
      problems.map((p) => h("li", { class: "problem", "data-path": p.path }, h("code", {}, p.path || "(root)"), " ", p.message)),
    ),
  );
}

export function render(root) {
  const editor = h("textarea", { id: "config-text", spellcheck: "false" });
  const note = h("div", {});
  const list = h("div", {});
  const diff = h("div", {});
  let revisions = [];
  const load = async () => {
    try {
      ({ revisions } = await get("/api/config"));
    } catch (err) {
      return mount(list, h("p", { class: "msg bad" }, err.message));
    }
    const current = revisions[revisions.length - 1];
    if (current && !editor.value) editor.value = json(current.config);
    const showDiff = (i) =>
      mount(
        diff,
        h("h3", {}, `revision ${revisions[i - 1].revision} → ${revisions[i].revision}`),
        diffView(json(revisions[i - 1].config), json(revisions[i].config)),
      );
    mount(
      list,
      revisions.length === 0
        ? h("p", { class: "muted" }, "no revision stored yet (a router seeds its file's config on start)")
        : h(
            "table",
            {},
            h(
              "tr",
              {},
              ["revision", "stored", "actors", "rules", ""].map((t) => h("th", {}, t)),
            ),
            [...revisions].reverse().map((r) => {
              const i = revisions.indexOf(r);
              return h(
                "tr",
                { "data-revision": r.revision },
                h("td", {}, r.revision, r === current ? " (current)" : ""),
                h("td", {}, fmtTime(r.at)),
                h("td", {}, r.config.actors.length),
                h("td", {}, r.config.routes.rules.length),
                h(
                  "td",
                  {},
                  i > 0 ? h("button", { class: "plain", onclick: () => showDiff(i) }, "diff") : null,
                  " ",
                  r !== current
                    ? h(
                        "button",
                        {
                          class: "plain",
                          "data-rollback": r.revision,
                          onclick: () => act("/api/config/rollback", { revision: r.revision }, `rolled back to revision ${r.revision}`),
                        },
                        "roll back",
                      )
                    : null,
                ),
              );
            }),
          ),
    );
    if (revisions.length > 1 && !diff.firstChild) showDiff(revisions.length - 1);
  };
  const act = async (path, body, done) => {
    try {
      const r = await post(path, body);
      mount(note, h("p", { class: "msg ok", "data-applied": r.revision }, `${done}: now revision ${r.revision}`));
      editor.value = "";
      await load();
    } catch (err) {
      mount(note, err.body?.problems ? problemsView(err.body.problems) : errorNote(h, err));
    }
  };
  const validate = async () => {
    try {
      const r = await post("/api/config/validate", { text: editor.value });
      mount(note, r.valid ? h("p", { class: "msg ok", "data-valid": "" }, "valid") : problemsView(r.problems));
    } catch (err) {
      mount(note, h("p", { class: "msg bad" }, err.message));
    }
  };
  mount(
    root,
    h("h2", {}, "Config"),
    h(
      "div",
      { class: "cols" },
      h("div", {}, h("h3", {}, "Revisions"), list, diff),
      h(
        "div",
        {},
        h("h3", {}, "Edit, validate, apply"),
        editor,
        note,
        h(
          "div",
          { class: "bar" },
          h("button", { class: "plain", id: "config-validate", onclick: validate }, "Validate"),
          h("button", { id: "config-apply", onclick: () => act("/api/config/apply", { text: editor.value }, "applied") }, "Apply"),
        ),
      ),
    ),
  );
  void load();
}
