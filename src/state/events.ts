/**
 * The one subscription to the worker's pushed events, routing each to the slice it
 * concerns. Progress events can come by the hundred while a file streams in; they reach
 * the stores at most once per animation frame.
 */
import type { EngineEvent } from '../engine/api';
import { useDataStore } from './dataStore';
import { useExportStore } from './exportStore';
import { frameBatcher } from './frame';
import { useModelStore } from './modelStore';
import { usePromptsStore } from './promptsStore';
import { runRecorder } from './runRecorder';
import { useTrainingStore } from './trainingStore';
import { workerClient } from './workerClient';

export function connectEngineEvents(): () => void {
  let modelProgress: Extract<EngineEvent, { event: 'loadProgress' }> | null = null;
  let tableProgress = 0;
  let exportReading: Extract<EngineEvent, { event: 'exportProgress' }> | null = null;
  const flushModel = frameBatcher(() => {
    if (modelProgress) useModelStore.getState().receiveProgress(modelProgress);
  });
  const flushTable = frameBatcher(() => useDataStore.getState().receiveProgress(tableProgress));
  const flushExport = frameBatcher(() => {
    if (exportReading) useExportStore.getState().receiveReading(exportReading);
  });

  return workerClient().subscribe((e) => {
    switch (e.event) {
      case 'loadProgress':
        modelProgress = e;
        flushModel();
        break;
      case 'exportProgress':
        exportReading = e;
        flushExport();
        break;
      case 'tableProgress':
        tableProgress = e.fraction;
        flushTable();
        break;
      case 'batchProgress':
        usePromptsStore.getState().receiveBatchProgress(e.done, e.total);
        break;
      case 'token':
        // The model slice's generate() listens for its own request's tokens.
        break;
      case 'log':
        if (e.level === 'warn') useTrainingStore.getState().addNotice(e.message);
        break;
      default:
        useTrainingStore.getState().receive(e);
        // The current run's events also go to the browser's run history (written in batches).
        runRecorder.receive(e, useTrainingStore.getState().runId);
    }
  });
}
