import { useShallow } from 'zustand/react/shallow';
import { labelsLookLikeFreeText } from '../../data';
import { useDataStore } from '../../state/dataStore';
import { useSettingsStore } from '../../state/settingsStore';
import { visibleSpaces } from '../format';

/**
 * The text the model scores for each label. The leading space matters: " spam" is the
 * word after a space, as it follows "Label:" in the template.
 */
export function VerbalizerEditor({ disabled }: { disabled?: boolean }) {
  const { verbalizer, defaults, setVerbalizer, reset, scoring } = useSettingsStore(useShallow((s) => ({
    verbalizer: s.verbalizer, defaults: s.defaultVerbalizer, setVerbalizer: s.setVerbalizer, reset: s.resetVerbalizer, scoring: s.config.scoring,
  })));
  const rows = useDataStore((s) => (s.dataset ? s.dataset.trainCount + s.dataset.validationCount : 0));
  const labels = Object.keys(defaults);
  if (labels.length === 0) return <p className="muted">The verbalizer (the text scored for each label) appears once the data is mapped.</p>;
  // Free-text targets, one per example: a table of thousands of rows would edit nothing anyone reads.
  const freeText = scoring === 'target' || (scoring === 'auto' && labelsLookLikeFreeText(labels.length, rows));
  if (freeText) {
    return (
      <p className="help" data-testid="verbalizer-free-text">
        Each example's target ({labels.length.toLocaleString('en')} distinct) is written after the template as it is in the CSV, after one space
        ({visibleSpaces(defaults[labels[0]] ?? '')} for “{labels[0]}”).
      </p>
    );
  }
  const edited = labels.some((l) => verbalizer[l] !== defaults[l]);
  return (
    <fieldset className="verbalizer" data-testid="verbalizer">
      <legend>Verbalizer</legend>
      <p className="help">The text the model scores for each label, right after the template. Keep the leading space (shown as ␣).</p>
      <table>
        <thead><tr><th scope="col">Label</th><th scope="col">Text scored</th><th scope="col">As the model sees it</th></tr></thead>
        <tbody>
          {labels.map((label) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>
                <input aria-label={`Text scored for ${label}`} value={verbalizer[label] ?? ''} disabled={disabled}
                  onChange={(e) => setVerbalizer(label, e.target.value)} data-testid={`verbalizer-${label}`} />
              </td>
              <td className="token-text">{visibleSpaces(verbalizer[label] ?? '')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {edited && <button type="button" className="link" disabled={disabled} onClick={reset}>Back to the defaults</button>}
    </fieldset>
  );
}
