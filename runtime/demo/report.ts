import type { DemoReport } from "./run.ts";
import { SEED_CORRELATION } from "./seed.ts";

/** The seed's two query lines, then which actor handled which event (replica, attempts). */
export function formatReport(r: DemoReport): string {
  const lines = [
    `Found ${r.createdCount} UserCreated events`,
    `Found ${r.correlationCount} events with correlation ID ${SEED_CORRELATION}`,
    "",
  ];
  const events = [...new Map(r.handled.map((h) => [h.event.id, h.event])).values()];
  const actors = [...new Set(r.handled.map((h) => h.actor))];
  const cell = (eventId: string, actor: string) => {
    const h = r.handled.find((x) => x.event.id === eventId && x.actor === actor);
    return h ? `handled (attempt ${h.marker.attempts})` : "-";
  };
  const rows = [["event", ...actors], ...events.map((e) => [e.type, ...actors.map((a) => cell(e.id, a))])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const render = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  lines.push(render(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(render));
  for (const u of r.unobserved)
    lines.push(`(${u.actor} was routed ${u.event.type} but keeps no processed markers, so its handling is not shown)`);
  return lines.join("\n") + "\n";
}
