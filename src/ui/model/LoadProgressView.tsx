import type { LoadProgress } from '../../state/modelStore';
import { formatBytes } from '../format';
import { ProgressBar } from '../ProgressBar';

/** The file being read, its bytes and percent; space is reserved so the panel does not jump. */
export function LoadProgressView({ loading, progress }: { loading: string | null; progress: LoadProgress | null }) {
  if (!loading) return null;
  // A hub download goes into the browser's cache and is then read back from it: two passes over the same file, told apart.
  const file = progress?.fromCache ? `${progress.file} (from the browser's cache)` : progress?.file;
  const text = !progress
    ? 'starting…'
    : progress.total
      ? `${file}: ${formatBytes(progress.loaded)} of ${formatBytes(progress.total)} (${Math.floor((100 * progress.loaded) / progress.total)}%)`
      : `${file}: ${formatBytes(progress.loaded)}`;
  return (
    <div className="load-progress" data-testid="model-progress">
      <p className="muted">Loading {loading}{progress && progress.filesDone.length ? ` — ${progress.filesDone.length} file${progress.filesDone.length === 1 ? '' : 's'} done` : ''}</p>
      <ProgressBar value={progress?.loaded ?? 0} max={progress?.total ?? null} label="Model download" text={text} />
    </div>
  );
}
