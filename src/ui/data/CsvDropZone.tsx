import { useShallow } from 'zustand/react/shallow';
import { useDataStore } from '../../state/dataStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { DropZone } from '../DropZone';
import { formatBytes } from '../format';
import { ProgressBar } from '../ProgressBar';

/** Pick or drop a labeled table; the bytes go to the worker, which parses them off the page's thread. */
export function CsvDropZone() {
  const { status, fileName, fileBytes, progress, loadFile } = useDataStore(useShallow((s) => ({
    status: s.status, fileName: s.fileName, fileBytes: s.fileBytes, progress: s.progress, loadFile: s.loadFile,
  })));
  const busy = status === 'reading' || status === 'parsing';
  const locked = useTrainingStore(isActive);
  return (
    <div className="csv-input">
      <DropZone
        label={fileName ? 'Choose another file…' : 'Choose a CSV file…'}
        accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain"
        disabled={locked}
        onFiles={(files) => void loadFile(files[0])}
        testId="csv-input"
      >
        or drop it here. One row per example: a text column and a label column (.csv, .tsv or .txt; comma, semicolon, tab or |).
      </DropZone>
      <div className="reserve-progress" aria-live="polite" data-testid="table-status" data-status={status}>
        {busy && (
          <ProgressBar value={progress} max={1} label={`Reading ${fileName}`}
            text={status === 'reading' ? `Reading ${fileName} (${formatBytes(fileBytes)})…` : `Parsing ${fileName}: ${Math.round(progress * 100)}%`} />
        )}
      </div>
    </div>
  );
}
