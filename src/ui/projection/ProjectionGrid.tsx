import type { NearestTokens, ProjectionMetric } from '../../tuning/projection';
import type { ProjectionSummary } from '../../engine/api';
import { previousIds } from '../../state/projectionStore';
import { visibleToken } from '../format';

const SCORE_NAME: Record<ProjectionMetric, string> = { cosine: 'cosine similarity', dot: 'dot product', l2: 'distance' };

function TokenChips({ nearest, tokens, before, metric, update }: {
  nearest: NearestTokens;
  tokens: Record<number, string>;
  before: Set<number> | null;
  metric: ProjectionMetric;
  update: number;
}) {
  return (
    <ol className="chips">
      {nearest.ids.map((id, j) => {
        const changed = before !== null && !before.has(id);
        return (
          // Keyed by update too, so a changed chip's highlight animation plays again each time.
          <li key={changed ? `${id}-${update}` : id} className={changed ? 'chip changed' : 'chip'} data-changed={changed || undefined}
            title={`token ${id}, ${SCORE_NAME[metric]} ${nearest.scores[j].toFixed(3)}${changed ? ' (new since the last update)' : ''}`}>
            <span className="token-text">{visibleToken(tokens[id] ?? `#${id}`)}</span>
            <span className="score num">{nearest.scores[j].toFixed(metric === 'cosine' ? 2 : 1)}</span>
          </li>
        );
      })}
    </ol>
  );
}

/**
 * One row per virtual token: how close it sits to its nearest real token (cosine, as a
 * bar), its norm against the vocabulary's mean norm, and its nearest tokens by the chosen
 * measure. Tokens that entered a row's top-k since the last update are highlighted.
 */
export function ProjectionGrid({ current, previous, metric, updates }: {
  current: ProjectionSummary;
  previous: ProjectionSummary | null;
  metric: ProjectionMetric;
  updates: number;
}) {
  const { projection, tokens } = current;
  const merged = previous ? { ...previous.tokens, ...tokens } : tokens;
  const rows = projection[metric];
  return (
    <div className="table-scroll projection-scroll" tabIndex={0} role="region" aria-label="Nearest vocabulary tokens of each virtual token">
      <table className="projection-grid" data-testid="projection-grid" data-updates={updates} data-step={current.step} data-metric={metric}>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Nearest real token (cosine)</th>
            <th scope="col" title="The virtual token's length divided by the mean length of the vocabulary's tokens">Norm ÷ mean</th>
            <th scope="col">Top {projection.k} by {SCORE_NAME[metric]}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((nearest, i) => {
            const cosine = projection.cosine[i]?.scores[0] ?? 0;
            const ratio = projection.meanTokenNorm > 0 ? projection.norms[i] / projection.meanTokenNorm : 0;
            const before = previousIds(previous, metric, i);
            return (
              <tr key={i}>
                <th scope="row" className="num">{i + 1}</th>
                <td className="nearness">
                  <span className="meter" aria-hidden="true"><span style={{ width: `${Math.max(0, Math.min(1, cosine)) * 100}%` }} /></span>
                  <span className="num">{cosine.toFixed(2)}</span>
                </td>
                <td className="num" title={`‖v‖ = ${projection.norms[i].toFixed(2)}, mean token norm ${projection.meanTokenNorm.toFixed(2)}`}>
                  {ratio.toFixed(1)}×
                </td>
                <td><TokenChips nearest={nearest} tokens={merged} before={before} metric={metric} update={updates} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
