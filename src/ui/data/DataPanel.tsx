import { useShallow } from 'zustand/react/shallow';
import { useDataStore } from '../../state/dataStore';
import { ErrorNote } from '../ErrorNote';
import { Panel } from '../Panel';
import { ColumnMappingForm } from './ColumnMappingForm';
import { CsvDropZone } from './CsvDropZone';
import { DatasetSummaryView } from './DatasetSummaryView';
import { ReadyToTrain } from './ReadyToTrain';
import { SamplePicker } from './SamplePicker';
import { TableFacts } from './TableFacts';
import { TablePreview } from './TablePreview';

export function DataPanel() {
  const { table, error, datasetError, dataset, building } = useDataStore(useShallow((s) => ({
    table: s.table, error: s.error, datasetError: s.datasetError, dataset: s.dataset, building: s.building,
  })));
  return (
    <Panel step="data">
      <SamplePicker />
      <CsvDropZone />
      <ErrorNote error={error} testId="table-error" />
      {table && (
        <>
          <TableFacts table={table} />
          <ReadyToTrain />
          <TablePreview table={table} />
          <ColumnMappingForm table={table} />
          <ErrorNote error={datasetError} testId="dataset-error" />
          <div className="dataset-area" aria-busy={building}>
            {dataset && <DatasetSummaryView dataset={dataset} tableProblems={table.problems} tableWarnings={table.warnings} />}
          </div>
        </>
      )}
    </Panel>
  );
}
