import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerResponse } from "node:http";

export const ASSET_DIR = fileURLToPath(new URL("./assets/", import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

type Asset = Readonly<{ type: string; body: Buffer }>;

/** Every file under assets/, read once at start-up: the console works offline and serves from memory. */
export function loadAssets(dir = ASSET_DIR): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`);
      else if (TYPES[extname(name)]) out.set(`/${prefix}${name}`, { type: TYPES[extname(name)]!, body: readFileSync(p) });
    }
  };
  walk(dir, "");
  return out;
}

/** Total bytes of the shipped assets (docs/guides/console.md reports it). */
export function assetBytes(assets: ReadonlyMap<string, Asset>): number {
  let n = 0;
  for (const a of assets.values()) n += a.body.length;
  return n;
}

export function serveAsset(assets: ReadonlyMap<string, Asset>, path: string, res: ServerResponse): boolean {
  const a = assets.get(path === "/" ? "/index.html" : path);
  if (!a) return false;
  res.writeHead(200, { "content-type": a.type, "content-length": a.body.length, "cache-control": "no-cache" });
  res.end(a.body);
  return true;
}

/**
 * The page with a snapshot inside it (`<script id="first-snapshot" type="application/json">`): the
 * page draws it while it loads, so its first paint shows the deployment, not "connecting…". Every
 * `<` is escaped so no value (an event type, a rule name) can close the script element.
 */
export function pageWith(assets: ReadonlyMap<string, Asset>, snapshot: unknown): Buffer {
  const page = assets.get("/index.html")!.body.toString("utf8");
  if (snapshot === undefined) return Buffer.from(page);
  const data = JSON.stringify(snapshot).replace(/</g, "\\u003c");
  // a function, not a string: `$&` in the data must stay as it is
  return Buffer.from(page.replace("</body>", () => `<script id="first-snapshot" type="application/json">${data}</script>\n</body>`));
}

export function servePage(res: ServerResponse, body: Buffer): void {
  // the page carries live data now: never cached
  res.writeHead(200, { "content-type": TYPES[".html"]!, "content-length": body.length, "cache-control": "no-store" });
  res.end(body);
}
