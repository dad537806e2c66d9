import { useShallow } from 'zustand/react/shallow';
import { useSettingsStore } from '../../state/settingsStore';
import { visibleSpaces } from '../format';

/**
 * The text the model scores for each label. The leading space matters: " spam" is the
 * word after a space, as it follows "Label:" in the template.
 */
export function VerbalizerEditor({ disabled }: { disabled?: boolean }) {
  const { verbalizer, defaults, setVerbalizer, reset } = useSettingsStore(useShallow((s) => ({
    verbalizer: s.verbalizer, defaults: s.defaultVerbalizer, setVerbalizer: s.setVerbalizer, reset: s.resetVerbalizer,
  })));
  const labels = Object.keys(defaults);
  if (labels.length === 0) return <p className="muted">The verbalizer (the text scored for each label) appears once the data is mapped.</p>;
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
