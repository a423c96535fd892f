/**
 * "Did you mean ...?" for misspelt keys and names. Levenshtein distance (insert, delete, replace),
 * computed with one row: keys and names are short, so this costs nothing next to reading a file.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The candidate nearest to `word`, when it is near enough to be a slip rather than another
 * word: at most 2 edits, or 40% of the word for longer ones (`retries` -> `retry` is 3 of 7,
 * `loglevel` -> `log_level` 1, `order-audti` -> `order-audit` 2; `bogus` suggests nothing).
 * Ignoring case and `-`/`_` first catches `logLevel` and `log-level` too.
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  const limit = Math.max(2, Math.round(word.length * 0.4));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = norm(c) === norm(word) ? 0.5 : editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= limit ? best : undefined;
}

/** `; did you mean "retry"?` when a near candidate exists, else "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const n = nearest(word, candidates);
  return n === undefined ? "" : `; did you mean "${n}"?`;
}
