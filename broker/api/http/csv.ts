/** A cell value: strings, numbers, null (empty) or an object (written as JSON). */
export type CsvValue = string | number | null | Readonly<Record<string, unknown>>;

/** Leading characters a spreadsheet would execute as a formula (OWASP "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180 §2): quoted when it holds a comma, quote, CR or LF, quotes doubled. A
 * string that a spreadsheet would read as a formula is prefixed with `'`, so an exported audit log
 * opened in a spreadsheet cannot run attacker-chosen text (free-text reasons come from callers).
 */
export function csvField(value: CsvValue): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * A CSV document (RFC 4180, `text/csv; header=present` per RFC 4180 §3): a header row of `columns`,
 * then one CRLF-terminated record per row, fields in column order.
 */
export function toCsv<Row extends Readonly<Record<string, CsvValue>>>(
  columns: readonly (keyof Row & string)[],
  rows: readonly Row[],
): string {
  const lines = [columns.map((c) => csvField(c)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c] ?? null)).join(','));
  return lines.join('\r\n') + '\r\n';
}
