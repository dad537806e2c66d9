import type { TableSummary } from '../../engine/api';

/** The first rows as the parser read them: cells are text, shortened for the preview only. */
export function TablePreview({ table }: { table: TableSummary }) {
  const short = (cell: string) => (cell.length > 160 ? `${cell.slice(0, 160)}…` : cell);
  return (
    <div className="table-scroll preview" tabIndex={0} role="region" aria-label={`First ${table.preview.length} rows of ${table.fileName}`}>
      <table data-testid="table-preview">
        <thead>
          <tr>{table.columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr>
        </thead>
        <tbody>
          {table.preview.map((row, i) => (
            <tr key={i}>{row.map((cell, j) => <td key={j} title={cell.length > 160 ? cell : undefined}>{short(cell)}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
