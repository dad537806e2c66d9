import { labelsLookLikeFreeText, type RowProblem } from '../../data';
import type { DatasetSummary } from '../../engine/api';
import { LabelBars } from './LabelBars';
import { ProblemList } from './ProblemList';
import { TokenLengthsLine } from './TokenLengthsLine';

/** The dataset the run will use: its size, labels, split, and what was left out. */
export function DatasetSummaryView({ dataset, tableProblems, tableWarnings }: {
  dataset: DatasetSummary;
  tableProblems: RowProblem[];
  tableWarnings: string[];
}) {
  // Problems found while parsing and while mapping, in file order; the dataset repeats the parser's.
  const seen = new Set<string>();
  const problems = [...tableProblems, ...dataset.rejected]
    .filter((p) => !seen.has(`${p.line}\n${p.reason}`) && seen.add(`${p.line}\n${p.reason}`))
    .sort((a, b) => a.line - b.line);
  const warnings = [...tableWarnings, ...dataset.warnings];
  const freeText = labelsLookLikeFreeText(dataset.labels.length, dataset.trainCount + dataset.validationCount);
  return (
    <div className="dataset-summary" data-testid="dataset-summary">
      <p className="counts">
        <span data-testid="train-count" className="num">{dataset.trainCount.toLocaleString('en')}</span> training and{' '}
        <span data-testid="validation-count" className="num">{dataset.validationCount.toLocaleString('en')}</span> validation examples,{' '}
        {dataset.labels.length.toLocaleString('en')} labels{dataset.tasks.length ? `, ${dataset.tasks.length} tasks (${dataset.tasks.join(', ')})` : ''}.
      </p>
      {freeText && (
        <p className="help" data-testid="free-text-labels">
          The labels look like free text (a generation task: more than 32, most used once or twice), so the split ignores them and an evaluation
          checks whether the model writes each example's own target (exact match) instead of ranking them all. Method → Advanced → Scoring changes that.
        </p>
      )}
      {!freeText && <LabelBars labels={dataset.labels} />}
      <TokenLengthsLine />
      {warnings.length > 0 && (
        <ul className="warnings" data-testid="data-warnings">
          {warnings.map((w, i) => <li key={i} className="warning">{w}</li>)}
        </ul>
      )}
      <ProblemList problems={problems} />
    </div>
  );
}
