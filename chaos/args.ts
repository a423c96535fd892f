// The harness's command line: `--profile short|long [--json] [--seed N] [--keep]`.
import { PROFILES, type Profile } from "./profiles.ts";
import { randomSeed } from "./rng.ts";

export type Args = { profile: Profile; json: boolean; seed: number; keep: boolean };

/** The parsed arguments, or the message naming the bad one. */
export function parseArgs(argv: readonly string[]): Args | string {
  const a: Args = { profile: PROFILES.short, json: false, seed: randomSeed(), keep: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--json") a.json = true;
    else if (k === "--keep") a.keep = true;
    else if (k === "--profile") {
      const p = PROFILES[argv[++i] as keyof typeof PROFILES];
      if (!p) return `--profile must be ${Object.keys(PROFILES).join(" or ")}`;
      a.profile = p;
    } else if (k === "--seed") {
      a.seed = Number(argv[++i]);
      if (!Number.isSafeInteger(a.seed) || a.seed < 0) return "--seed must be a whole number >= 0";
    } else return `unknown argument ${k} (usage: npm run chaos -- --profile short|long [--json] [--seed N] [--keep])`;
  }
  return a;
}
