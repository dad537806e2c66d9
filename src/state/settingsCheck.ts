/**
 * The settings checked on the page as they are typed, with the engine's own rules
 * (validateTrainConfig is plain TypeScript), so a mistake shows before Train is pressed.
 * The worker checks again when the run starts.
 */
import { useMemo } from 'react';
import { validateTrainConfig } from '../tuning/config';
import { useDataStore } from './dataStore';
import { toUiError, type UiError } from './errors';
import { useSettingsStore } from './settingsStore';

export function useSettingsCheck(): UiError | null {
  const config = useSettingsStore((s) => s.config);
  const tasks = useSettingsStore((s) => s.tasks);
  const trainExamples = useDataStore((s) => s.dataset?.trainCount ?? null);
  return useMemo(() => {
    try {
      validateTrainConfig(config, trainExamples === null ? undefined : { trainExamples, tasks });
      return null;
    } catch (e) {
      return toUiError(e);
    }
  }, [config, tasks, trainExamples]);
}
