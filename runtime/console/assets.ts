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

/** Total bytes of the shipped assets (the README reports it). */
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
