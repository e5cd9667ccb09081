/**
 * Formats rows as a left-aligned text table for people (`--json` prints the rows themselves). Absent
 * and null cells are `-`; objects are shown as JSON; a header row names the columns.
 */
export function formatTable(rows: readonly object[], columns: readonly string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (row: object, column: string): string => {
    const value = (row as Record<string, unknown>)[column];
    if (value === undefined || value === null) return '-';
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  const cells = [columns.map((c) => c.toUpperCase()), ...rows.map((row) => columns.map((c) => cell(row, c)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells
    .map((line) =>
      line
        .map((text, i) => text.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
