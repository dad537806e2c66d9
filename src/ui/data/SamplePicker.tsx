import { useShallow } from 'zustand/react/shallow';
import { useDataStore } from '../../state/dataStore';
import { SAMPLES, TEMPLATE_FILE, sampleUrl } from '../../state/samples';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';

/**
 * No file of one's own yet: one click loads a sample the default model learns well
 * (loaded, mapped and split, ready to train), or downloads a template to fill in.
 */
export function SamplePicker() {
  const { loading, error, loadSample, current } = useDataStore(useShallow((s) => ({
    loading: s.sampleLoading, error: s.sampleError, loadSample: s.loadSample, current: s.fileName,
  })));
  const locked = useTrainingStore(isActive);
  return (
    <div className="samples" data-testid="samples">
      <p className="samples-lead"><strong>No data at hand?</strong> Try a sample (each is 300 rows that even the small default model learns from words alone):</p>
      <div className="sample-buttons" role="group" aria-label="Sample datasets">
        {SAMPLES.map((s) => (
          <button key={s.id} type="button" className="secondary sample" disabled={locked || loading !== null}
            aria-pressed={current === s.file} title={s.description} onClick={() => void loadSample(s.id)} data-testid={`sample-${s.id}`}>
            {loading === s.id ? 'Loading…' : s.title}
            <span className="sample-note">{s.description}</span>
          </button>
        ))}
      </div>
      <p className="help">
        Your own file: one row per example, a <code>text</code> column and a <code>label</code> column.{' '}
        <a href={sampleUrl(TEMPLATE_FILE)} download="prompt-tuning-template.csv" data-testid="csv-template">Download a CSV template</a>.
      </p>
      <ErrorNote error={error} testId="sample-error" />
    </div>
  );
}
