import { useShallow } from 'zustand/react/shallow';
import { useTrainingStore } from '../../state/trainingStore';
import { majorityBaseline } from '../../tuning/metrics';
import { formatPercent } from '../format';

/** Validation accuracy of the trained prompt beside what it should beat, as bars. */
export function PromptComparison() {
  const { soft, zeroShot, text, textPrompt, discrete } = useTrainingStore(useShallow((s) => ({
    soft: s.evaluation, zeroShot: s.zeroShot, text: s.textBaseline, textPrompt: s.textPrompt, discrete: s.discrete,
  })));
  const examples = soft?.report ?? zeroShot?.report;
  const majority = examples ? majorityBaseline(examples) : null;
  const rows = [
    { id: 'soft', name: 'Soft prompt', note: soft ? `step ${soft.step}` : '', value: soft?.report.accuracy },
    { id: 'majority', name: 'Majority class', note: majority ? `always "${majority.label}"` : '', value: majority?.accuracy },
    { id: 'zero-shot', name: 'Zero-shot', note: 'no prompt', value: zeroShot?.report.accuracy },
    { id: 'text', name: 'Text prompt', note: textPrompt ? `"${textPrompt}"` : '', value: text?.report.accuracy },
    {
      id: 'discrete', name: 'Nearest tokens', value: discrete?.report.accuracy,
      note: 'discrete projection: each virtual token replaced by its nearest real token',
    },
  ];
  return (
    <figure className="comparison" data-testid="comparison">
      <figcaption>Validation accuracy</figcaption>
      <ul>
        {rows.map((r) => (
          <li key={r.id} data-variant={r.id} data-value={r.value ?? ''}>
            <span className="bar-label">{r.name}</span>
            <span className="bar-track" aria-hidden="true"><span className={`bar ${r.id}`} style={{ width: `${(r.value ?? 0) * 100}%` }} /></span>
            <span className="bar-value num">{formatPercent(r.value)}</span>
            <span className="bar-note muted small" title={r.note}>{r.note}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
