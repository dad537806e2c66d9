import { useShallow } from 'zustand/react/shallow';
import { useDataStore } from '../../state/dataStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import type { TableSummary } from '../../engine/api';
import { NumberInput } from '../NumberInput';

const NONE = '';

/**
 * Which columns are the text, the label, and optionally the task and the split; the
 * worker's guess is selected when a file loads. Every change rebuilds the dataset.
 */
export function ColumnMappingForm({ table }: { table: TableSummary }) {
  const { mapping, split, setMapping, setSplit } = useDataStore(useShallow((s) => ({
    mapping: s.mapping, split: s.split, setMapping: s.setMapping, setSplit: s.setSplit,
  })));
  const locked = useTrainingStore(isActive);
  if (!mapping) return null;
  const toggleText = (column: string, on: boolean) => {
    const chosen = new Set(mapping.textColumns);
    if (on) chosen.add(column);
    else chosen.delete(column);
    // Keep the file's column order: texts are joined in it.
    setMapping({ textColumns: table.columns.filter((c) => chosen.has(c)) });
  };
  const optional = (value: string) => (value === NONE ? null : value);

  return (
    <form className="mapping" data-testid="column-mapping" onSubmit={(e) => e.preventDefault()}>
      {locked && <p className="muted">The data is locked while a run is in progress.</p>}
      <fieldset className="mapping-fields" disabled={locked}>
        <fieldset className="text-columns">
          <legend>Text column(s)</legend>
          <div className="checks">
            {table.columns.map((c) => (
              <label key={c} className="check">
                <input type="checkbox" checked={mapping.textColumns.includes(c)} onChange={(e) => toggleText(c, e.target.checked)}
                  data-testid={`text-column-${c}`} />
                {c}
              </label>
            ))}
          </div>
          <p className="help">Several columns are joined with a line break, in file order.</p>
        </fieldset>
        <div className="field-grid">
          <label>
            Label column
            <select value={mapping.labelColumn ?? NONE} onChange={(e) => setMapping({ labelColumn: optional(e.target.value) })} data-testid="label-column">
              <option value={NONE}>choose…</option>
              {table.columns.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
          <label>
            <span>Task column <span className="muted">(optional)</span></span>
            <select value={mapping.taskColumn ?? NONE} onChange={(e) => setMapping({ taskColumn: optional(e.target.value) })} data-testid="task-column">
              <option value={NONE}>none</option>
              {table.columns.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
          <label>
            <span>Split column <span className="muted">(optional)</span></span>
            <select value={mapping.splitColumn ?? NONE} onChange={(e) => setMapping({ splitColumn: optional(e.target.value) })} data-testid="split-column">
              <option value={NONE}>none: split at random</option>
              {table.columns.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
          <label>
            Validation fraction
            <NumberInput value={split.validationFraction} min={0.01} max={0.9} onValue={(v) => setSplit({ validationFraction: v })}
              disabled={mapping.splitColumn !== null} aria-describedby="split-help" data-testid="validation-fraction" />
          </label>
          <label>
            Split seed
            <NumberInput value={split.seed} integer min={0} onValue={(v) => setSplit({ seed: v })}
              disabled={mapping.splitColumn !== null} aria-describedby="split-help" data-testid="split-seed" />
          </label>
        </div>
        <p id="split-help" className="help">
          {mapping.splitColumn
            ? 'Rows are split by the split column (train / validation); the fraction and seed are not used.'
            : 'A stratified random split: each label keeps its share in both parts. The same seed gives the same split.'}
        </p>
      </fieldset>
    </form>
  );
}
