import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBrowser, screenshotDir, type HeadlessBrowser } from "../helpers/browser.ts";
import { BUSY_TYPES, busyConsoleConfig, startConsoleDeployment, type ConsoleDeployment } from "../fixtures/console-deployment.ts";

let d: ConsoleDeployment;
let b: HeadlessBrowser;
const shots = screenshotDir();

test.before(async () => {
  d = await startConsoleDeployment({}, busyConsoleConfig());
  b = await openBrowser();
});
test.after(async () => {
  await b?.close();
  await d?.stop();
});

type AtLoad = { state: string; nodes: number; actorCards: number };

/** What the page shows when its load event fires: what a screenshot taken "after load" captures. */
async function atLoad(hash: string): Promise<AtLoad> {
  const page = await b.browser.newPage({ viewport: b.page.viewportSize()! });
  try {
    await page.addInitScript(() =>
      addEventListener("load", () => {
        (window as unknown as { atLoad: AtLoad }).atLoad = {
          state: document.getElementById("live-state")?.textContent ?? "",
          nodes: document.querySelectorAll("svg.graph [data-node]").length,
          actorCards: document.querySelectorAll("[data-actor]").length,
        };
      }),
    );
    await page.goto(`${d.url}${hash}`, { waitUntil: "load" });
    const seen = await page.evaluate(() => (window as unknown as { atLoad: AtLoad }).atLoad);
    // kept out of docs/console (docs/guides/console.md shows the busy graph): for a person checking this test
    if (hash === "#/flows") await page.screenshot({ path: join(mkdtempSync(join(tmpdir(), "jetbus-first-paint-")), "first-paint.png") });
    return seen;
  } finally {
    await page.close();
  }
}

// first in this file: the console has read nothing yet and no page has subscribed to its live stream
test("the first paint after load shows the deployment, not 'connecting…'", async () => {
  const flows = await atLoad("#/flows");
  assert.match(flows.state, /^live · revision 1 · /, "the live line at load");
  // nothing published yet: the 3 types a rule names exactly, 6 rules, 6 actors, unrouted and quarantined
  assert.is(flows.nodes, 3 + 6 + 6 + 2, "the graph drawn at load");
  const actors = await atLoad("#/actors");
  assert.is(actors.actorCards, 6, "every actor's card drawn at load");
});

type Box = { x1: number; y1: number; x2: number; y2: number };
type Geometry = {
  labels: (Box & { edge: string; text: string; title: string })[];
  nodes: (Box & { id: string; kind: string })[];
  unrouted: { edge: string; points: { x: number; y: number }[] }[];
  legend: string;
};

type Rect = { left: number; top: number; right: number; bottom: number };
type Measured = Omit<Geometry, "labels" | "nodes"> & {
  labels: { edge: string; text: string; title: string; rect: Rect }[];
  nodes: { id: string; kind: string; rect: Rect }[];
};
const box = (r: Rect): Box => ({ x1: r.left, y1: r.top, x2: r.right, y2: r.bottom });
const meet = (a: Box, b: Box) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;

test("no two edge labels meet on a graph of 7 types, 6 rules and 6 actors; unrouted edges stay out of the rules column", async () => {
  // 8 type -> rule, 12 rule -> actor, 2 type -> unrouted
  const EDGES = 22;
  let flowing = true;
  const traffic = (async () => {
    for (let i = 0; flowing; i++) {
      const type = BUSY_TYPES[i % BUSY_TYPES.length]!;
      // over 100: big-orders (a data filter) takes every OrderPlaced
      await d.bus.publish(type, { n: i, amount: 150 });
      await new Promise((r) => setTimeout(r, 40)); // pacing the traffic, not waiting for a result
    }
  })();
  let g: Geometry;
  try {
    await b.page.goto(`${d.url}#/flows`);
    // every edge carries a label once each has moved within one reading; measured in one pass over one drawing
    const handle = await b.page.waitForFunction(
      (edgeCount) => {
        const edges = [...document.querySelectorAll("svg.graph [data-edge]")];
        const labelled = edges.filter((e) => e.querySelector("text"));
        if (edges.length !== edgeCount || labelled.length !== edgeCount) return false;
        // no named helper functions in here: tsx would wrap them in a __name() the page does not have
        return {
          labels: labelled.map((e) => ({
            edge: e.getAttribute("data-edge")!,
            text: e.querySelector("text")!.textContent ?? "",
            title: e.querySelector("title")?.textContent ?? "",
            rect: e.querySelector("text")!.getBoundingClientRect().toJSON() as DOMRect,
          })),
          nodes: [...document.querySelectorAll("svg.graph [data-node]")].map((n) => ({
            id: n.getAttribute("data-node")!,
            kind: n.getAttribute("class")!,
            rect: n.querySelector("rect")!.getBoundingClientRect().toJSON() as DOMRect,
          })),
          unrouted: edges
            .filter((e) => e.getAttribute("data-edge")!.endsWith("->unrouted"))
            .map((e) => {
              const path = e.querySelector("path")!;
              const m = path.getScreenCTM()!;
              const len = path.getTotalLength();
              const points = [];
              for (let i = 0; i <= 100; i++) {
                const p = path.getPointAtLength((len * i) / 100);
                points.push({ x: p.x * m.a + p.y * m.c + m.e, y: p.x * m.b + p.y * m.d + m.f });
              }
              return { edge: e.getAttribute("data-edge")!, points };
            }),
          legend: document.querySelector("[data-legend]")?.textContent ?? "",
        };
      },
      EDGES,
      { timeout: 90_000, polling: 250 },
    );
    const raw = (await handle.jsonValue()) as Measured;
    g = {
      ...raw,
      labels: raw.labels.map(({ rect, ...l }) => ({ ...l, ...box(rect) })),
      nodes: raw.nodes.map(({ rect, ...n }) => ({ ...n, ...box(rect) })),
    };
    await b.page.screenshot({ path: join(shots, "flows.png") });
  } finally {
    flowing = false;
    await traffic;
  }
  assert.is(g.labels.length, EDGES);
  // every problem at once: a layout change that breaks one rule tends to break several
  const problems: string[] = [];
  for (let i = 0; i < g.labels.length; i++)
    for (let j = i + 1; j < g.labels.length; j++) {
      const [p, q] = [g.labels[i]!, g.labels[j]!];
      if (meet(p, q)) problems.push(`label "${p.text}" of ${p.edge} meets label "${q.text}" of ${q.edge}`);
    }
  for (const l of g.labels) for (const n of g.nodes) if (meet(l, n)) problems.push(`label "${l.text}" of ${l.edge} lies on node ${n.id}`);
  const rules = g.nodes.filter((n) => n.kind === "rule");
  assert.is(rules.length, 6);
  const rulesLeft = Math.min(...rules.map((r) => r.x1));
  assert.equal(g.unrouted.map((u) => u.edge).sort(), ["type:Mystery->unrouted", "type:Ping->unrouted"]);
  for (const u of g.unrouted) {
    // the dashed line ends where the rules column begins: it crosses no rule
    if (Math.max(...u.points.map((p) => p.x)) > rulesLeft + 0.5) problems.push(`${u.edge} reaches into the rules column`);
    for (const r of rules)
      if (u.points.some((p) => p.x > r.x1 && p.x < r.x2 && p.y > r.y1 && p.y < r.y2)) problems.push(`${u.edge} crosses rule ${r.id}`);
  }
  assert.equal(problems, []);
  // the number after a rate says what it counts, and the tooltip and the legend say since when
  const copies = g.labels.find((l) => l.edge === "rule:orders->actor:billing")!;
  assert.match(copies.text, /^[\d.,]+\/s · [\d,]+ copies$/);
  assert.match(copies.title, /copies sent since this console started counting at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
  assert.match(g.labels.find((l) => l.edge === "type:Mystery->unrouted")!.text, /^[\d.,]+\/s · [\d,]+ held$/);
  assert.match(g.legend, /"copies": copies a rule sent to that actor since this console started counting/);
  assert.equal(b.errors, []);
});

test.run();
