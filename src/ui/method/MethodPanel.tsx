import type { ReactNode } from 'react';
import { useSettingsCheck } from '../../state/settingsCheck';
import { useSettingsStore } from '../../state/settingsStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { SETTINGS, SETTING_KEYS, settingApplies, type SettingGroup, type TrainConfig } from '../../tuning/config';
import { ErrorNote } from '../ErrorNote';
import { Panel } from '../Panel';
import { LearningRateOffer } from './LearningRateOffer';
import { MaxLengthNote } from './MaxLengthNote';
import { ModelSuggestion } from './ModelSuggestion';
import { RunPlanLine } from './RunPlanLine';
import { SettingControl } from './SettingField';
import { StepTimeEstimate } from './StepTimeEstimate';
import { VerbalizerEditor } from './VerbalizerEditor';

/**
 * A group's settings in the table's order: text fields take a whole row, the rest share a
 * grid; settings of other methods are left out.
 */
function SettingsGroup({ group, config }: { group: SettingGroup; config: TrainConfig }) {
  const rows: ReactNode[] = [];
  let grid: ReactNode[] = [];
  const flush = () => {
    if (grid.length) rows.push(<div className="field-grid" key={`grid-${rows.length}`}>{grid}</div>);
    grid = [];
  };
  for (const key of SETTING_KEYS) {
    const spec = SETTINGS[key];
    if (spec.group !== group || !settingApplies(config, key)) continue;
    if (spec.type === 'text') {
      flush();
      const label = key === 'initText' && config.init !== 'text' ? 'Init text (optional; also the text-prompt baseline)' : undefined;
      rows.push(<SettingControl key={key} setting={key} label={label} />);
    } else if (key === 'learningRate') {
      grid.push(<div className="field-stack" key={key}><SettingControl setting={key} /><LearningRateOffer /></div>);
    } else if (key === 'maxLength') {
      grid.push(<div className="field-stack" key={key}><SettingControl setting={key} /><MaxLengthNote /></div>);
    } else {
      grid.push(<SettingControl key={key} setting={key} wide={key === 'method'} />);
    }
  }
  flush();
  return <>{rows}</>;
}

/**
 * Method, virtual tokens and steps in view, with what the run will take; everything else
 * folded under "Advanced" (closed on a first visit: the defaults are a good first run).
 */
export function MethodPanel() {
  const config = useSettingsStore((s) => s.config);
  const workerError = useSettingsStore((s) => s.workerError);
  const locked = useTrainingStore(isActive);
  const localError = useSettingsCheck();

  return (
    <Panel step="method">
      {locked && <p className="muted">Settings are locked while a run is in progress.</p>}
      <ModelSuggestion disabled={locked} />
      <div className="settings-errors" aria-live="polite" data-testid="settings-error">
        <ErrorNote error={workerError ?? localError} />
      </div>
      <form className="settings" onSubmit={(e) => e.preventDefault()}>
        <fieldset disabled={locked}>
          <legend className="visually-hidden">Method, prompt length and steps</legend>
          <SettingsGroup group="essential" config={config} />
          <StepTimeEstimate />
          <RunPlanLine />
        </fieldset>
        <details className="more-settings" data-testid="advanced-settings">
          <summary>Advanced: initialization, optimizer, learning rate, batch, template, verbalizer, evaluation…</summary>
          <p className="help">The defaults train well on a fresh CSV; each field says what the paper used.</p>
          <fieldset disabled={locked}>
            <legend>Soft prompt</legend>
            <SettingsGroup group="prompt" config={config} />
          </fieldset>
          <fieldset disabled={locked}>
            <legend>Optimization</legend>
            <SettingsGroup group="optimization" config={config} />
          </fieldset>
          <fieldset disabled={locked}>
            <legend>Input</legend>
            <SettingsGroup group="input" config={config} />
            <VerbalizerEditor />
          </fieldset>
          <fieldset disabled={locked}>
            <legend>Evaluation, projection, clipping, early stopping</legend>
            <SettingsGroup group="more" config={config} />
          </fieldset>
        </details>
      </form>
    </Panel>
  );
}
