import type { LoadProgress } from '../../state/modelStore';
import { formatBytes } from '../format';
import { ProgressBar } from '../ProgressBar';

/** The file being read, its bytes and percent; space is reserved so the panel does not jump. */
export function LoadProgressView({ loading, progress }: { loading: string | null; progress: LoadProgress | null }) {
  if (!loading) return null;
  const text = !progress
    ? 'starting…'
    : progress.total
      ? `${progress.file}: ${formatBytes(progress.loaded)} of ${formatBytes(progress.total)} (${Math.floor((100 * progress.loaded) / progress.total)}%)`
      : `${progress.file}: ${formatBytes(progress.loaded)}`;
  return (
    <div className="load-progress" data-testid="model-progress">
      <p className="muted">Loading {loading}{progress && progress.filesDone.length ? ` — ${progress.filesDone.length} file${progress.filesDone.length === 1 ? '' : 's'} done` : ''}</p>
      <ProgressBar value={progress?.loaded ?? 0} max={progress?.total ?? null} label="Model download" text={text} />
    </div>
  );
}
