/**
 * The value of one sample in Prometheus text exposition format, or undefined when the scrape has
 * no such sample. `labels` must be every label of the sample (order does not matter), so a
 * sample is never matched by a subset of its labels.
 */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? "").match(/[A-Za-z_][A-Za-z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
    if (have.sort().join(",") === want) return Number(m[3]);
  }
  return undefined;
}
