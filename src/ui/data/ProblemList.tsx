import { useState } from 'react';
import type { RowProblem } from '../../data';

const PAGE = 100;

/** Every row left out and why, a page of 100 at a time in a scrolling box. */
export function ProblemList({ problems }: { problems: RowProblem[] }) {
  const [page, setPage] = useState(0);
  if (problems.length === 0) return null;
  const pages = Math.ceil(problems.length / PAGE);
  const current = Math.min(page, pages - 1);
  const shown = problems.slice(current * PAGE, (current + 1) * PAGE);
  return (
    <details className="problems" data-testid="problem-rows" open={problems.length <= 20}>
      <summary>
        <span className="num">{problems.length.toLocaleString('en')}</span> row{problems.length === 1 ? '' : 's'} left out
      </summary>
      <div className="problem-scroll" tabIndex={0} role="region" aria-label="Rows left out">
        <table>
          <thead><tr><th scope="col">Line</th><th scope="col">Why</th></tr></thead>
          <tbody>
            {shown.map((p, i) => (
              <tr key={`${p.line}-${i}`}><td className="num">{p.line}</td><td>{p.reason}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 && (
        <div className="pager">
          <button type="button" className="secondary" disabled={current === 0} onClick={() => setPage(current - 1)}>Previous</button>
          <span className="num">rows {current * PAGE + 1}–{Math.min(problems.length, (current + 1) * PAGE)} of {problems.length}</span>
          <button type="button" className="secondary" disabled={current === pages - 1} onClick={() => setPage(current + 1)}>Next</button>
        </div>
      )}
    </details>
  );
}
