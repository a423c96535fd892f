// Small Markdown helpers shared by the reference generators (bin/gen-docs.ts).

/**
 * Text for a table cell: `|` escaped (GitHub ends a cell at a bare one, inside code spans too), and
 * outside code spans `<` escaped (`<actor>` would be read as an HTML tag and vanish) and `*`
 * escaped (`User*` next to another `*` would turn into emphasis).
 */
export function cell(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/\*/g, "\\*")))
    .join("")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");
}

/** An inline code span for any text (a longer fence when the text itself holds a backtick). */
export function code(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** A GitHub-flavoured table; cells are taken as given (run them through `cell` first). */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");
}
