import { useSettingsCheck } from '../../state/settingsCheck';
import { useSettingsStore } from '../../state/settingsStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { Panel } from '../Panel';
import { LearningRateOffer } from './LearningRateOffer';
import { BooleanSetting, NumberSetting, SelectSetting, TextSetting } from './SettingField';
import { StepTimeEstimate } from './StepTimeEstimate';
import { VerbalizerEditor } from './VerbalizerEditor';

const METHODS = [
  { value: 'prompt', label: 'Prompt tuning' },
  { value: 'ptuning-mlp', label: 'P-tuning (MLP encoder)' },
  { value: 'ptuning-lstm', label: 'P-tuning (LSTM encoder)' },
  { value: 'prefix', label: 'Prefix tuning' },
  { value: 'multitask', label: 'Multitask prompt tuning' },
] as const;
const INITS = [
  { value: 'labels', label: 'Class labels' },
  { value: 'vocab', label: 'Sampled vocabulary' },
  { value: 'text', label: 'Text' },
  { value: 'random', label: 'Random uniform' },
] as const;
const OPTIMIZERS = [{ value: 'adamw', label: 'AdamW' }, { value: 'adafactor', label: 'Adafactor' }] as const;
const SCHEDULES = [{ value: 'constant', label: 'Constant' }, { value: 'linear', label: 'Linear decay' }, { value: 'cosine', label: 'Cosine decay' }] as const;
const SIDES = [{ value: 'right', label: 'Right (keep the start)' }, { value: 'left', label: 'Left (keep the end)' }] as const;

export function MethodPanel() {
  const method = useSettingsStore((s) => s.config.method);
  const init = useSettingsStore((s) => s.config.init);
  const prefixProjection = useSettingsStore((s) => s.config.prefixProjection);
  const workerError = useSettingsStore((s) => s.workerError);
  const locked = useTrainingStore(isActive);
  const localError = useSettingsCheck();
  const ptuning = method === 'ptuning-mlp' || method === 'ptuning-lstm';

  return (
    <Panel step="method">
      {locked && <p className="muted">Settings are locked while a run is in progress.</p>}
      <div className="settings-errors" aria-live="polite" data-testid="settings-error">
        <ErrorNote error={workerError ?? localError} />
      </div>
      <form className="settings" onSubmit={(e) => e.preventDefault()}>
        <fieldset disabled={locked}>
          <legend>Soft prompt</legend>
          <div className="field-grid">
            <SelectSetting setting="method" label="Method" options={METHODS} wide />
            <NumberSetting setting="numVirtualTokens" label="Virtual tokens" integer min={1} max={1000} />
            <SelectSetting setting="init" label="Initialization" options={INITS} />
            {ptuning && <NumberSetting setting="encoderHiddenSize" label="Encoder width" integer min={0} />}
            {method === 'ptuning-lstm' && <NumberSetting setting="encoderNumLayers" label="Encoder layers" integer min={1} max={8} />}
            {method === 'prefix' && <BooleanSetting setting="prefixProjection" label="Prefix projection (MLP)" />}
            {method === 'prefix' && prefixProjection && <NumberSetting setting="encoderHiddenSize" label="Encoder width" integer min={0} />}
            {method === 'multitask' && <NumberSetting setting="numRanks" label="Task rank" integer min={1} max={64} />}
          </div>
          <TextSetting setting="initText" label={init === 'text' ? 'Init text' : 'Init text (optional; also the text-prompt baseline)'}
            placeholder="Classify whether the message is spam" />
        </fieldset>
        <fieldset disabled={locked}>
          <legend>Optimization</legend>
          <div className="field-grid">
            <SelectSetting setting="optimizer" label="Optimizer" options={OPTIMIZERS} />
            <div className="field-stack">
              <NumberSetting setting="learningRate" label="Learning rate" min={Number.MIN_VALUE} />
              <LearningRateOffer />
            </div>
            <NumberSetting setting="batchSize" label="Batch size" integer min={1} />
            <NumberSetting setting="steps" label="Steps" integer min={1} />
            <NumberSetting setting="warmupSteps" label="Warm-up steps" integer min={0} />
            <SelectSetting setting="schedule" label="Schedule" options={SCHEDULES} />
            <NumberSetting setting="seed" label="Seed" integer />
          </div>
          <StepTimeEstimate />
        </fieldset>
        <fieldset disabled={locked}>
          <legend>Input</legend>
          <TextSetting setting="template" label="Template" multiline />
          <div className="field-grid">
            <NumberSetting setting="maxLength" label="Max length (tokens)" integer min={4} />
            <SelectSetting setting="truncateSide" label="Truncate side" options={SIDES} />
          </div>
          <VerbalizerEditor />
        </fieldset>
        <details className="more-settings">
          <summary>More settings: evaluation, projection, clipping, early stopping</summary>
          <fieldset disabled={locked}>
            <legend className="visually-hidden">More settings</legend>
            <div className="field-grid">
              <NumberSetting setting="evalEvery" label="Evaluate every (steps)" integer min={1} />
              <NumberSetting setting="maxEvalExamples" label="Evaluation examples" integer min={0} />
              <NumberSetting setting="projectEvery" label="Project every (steps)" integer min={1} />
              <NumberSetting setting="projectionTopK" label="Nearest tokens shown" integer min={1} max={100} />
              <NumberSetting setting="weightDecay" label="Weight decay" min={0} />
              <NumberSetting setting="maxGradNorm" label="Clip gradient norm" min={0} />
              <NumberSetting setting="gradientAccumulation" label="Gradient accumulation" integer min={1} />
              <NumberSetting setting="earlyStoppingPatience" label="Early-stopping patience" integer min={0} />
              <NumberSetting setting="checkpointEvery" label="Checkpoint every (steps)" integer min={1} />
              <NumberSetting setting="evalBatchSize" label="Evaluation batch size" integer min={1} />
            </div>
          </fieldset>
        </details>
      </form>
    </Panel>
  );
}
