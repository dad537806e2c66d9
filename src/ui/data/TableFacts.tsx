import type { TableSummary } from '../../engine/api';

const DELIMITER_NAME: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe' };

/** One line on what the file turned out to be. */
export function TableFacts({ table }: { table: TableSummary }) {
  return (
    <p className="table-facts" data-testid="table-facts">
      <strong>{table.fileName}</strong>: <span className="num">{table.rowCount.toLocaleString('en')}</span> rows,{' '}
      {table.columns.length} columns, {DELIMITER_NAME[table.delimiter] ?? table.delimiter}-separated,{' '}
      {table.hasHeader ? 'with a header line' : 'no header line (columns named for you)'}
      {table.encoding ? `, ${table.encoding}` : ''}.
    </p>
  );
}
