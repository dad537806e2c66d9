/** Empty rows in the grid's shape, so the panel keeps its size when the first projection arrives. */
export function ProjectionSkeleton({ rows, k }: { rows: number; k: number }) {
  return (
    <div className="table-scroll projection-scroll" aria-hidden="true">
      <table className="projection-grid skeleton">
        <thead>
          <tr><th>#</th><th>Nearest real token (cosine)</th><th>Norm ÷ mean</th><th>Top {k}</th></tr>
        </thead>
        <tbody>
          {Array.from({ length: rows }, (_, i) => (
            <tr key={i}>
              <th className="num">{i + 1}</th>
              <td className="nearness"><span className="meter" /><span className="num">–</span></td>
              <td className="num">–</td>
              <td><ol className="chips">{Array.from({ length: k }, (_, j) => <li key={j} className="chip placeholder">&nbsp;</li>)}</ol></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
