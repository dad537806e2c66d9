import type { BackendChoice } from '../../engine/backend';
import type { ModelFacts } from '../../engine/session';

/** "260K", "135M", "1.5B": a model's size as people say it. */
function modelSize(n: number): string {
  const [value, unit] = n >= 1e9 ? [n / 1e9, 'B'] : n >= 1e6 ? [n / 1e6, 'M'] : [n / 1e3, 'K'];
  return `${value >= 10 ? Math.round(value) : Number(value.toFixed(1))}${unit}`;
}

/** What a model of this size can be expected to learn with a soft prompt, in plain words. */
export function whatItCanDo(facts: ModelFacts): { what: string; can: string } {
  const size = `${modelSize(facts.parameters)}-parameter`;
  const stories = /stories\d/i.test(facts.name);
  const what = stories ? `a ${size} story model (trained on TinyStories, simple children's stories)` : `a ${size} language model`;
  if (facts.parameters < 20e6) {
    return {
      what,
      can: 'It learns lexical tasks, where the words give the answer away: spam or not, questions or statements, simple topics. '
        + 'For sentiment or emotion it is too small: bring a bigger model (below).',
    };
  }
  if (facts.parameters < 300e6) {
    return { what, can: 'Big enough for topic and simple sentiment tasks; prompt tuning does better the larger the model. Each step takes longer in the browser.' };
  }
  return { what, can: 'Prompt tuning works well at this size, sentiment and topics included; expect slow steps without a GPU.' };
}

/** Where it runs, in one plain line (the reasons are under the details). */
export function whereItRuns(facts: ModelFacts, backend: BackendChoice | null): string {
  const softwareGpu = backend?.adapter?.isFallbackAdapter === true;
  switch (facts.backend) {
    case 'webgpu':
      return softwareGpu ? 'Runs on WebGPU in software here (no hardware GPU found): slow.' : `Runs on the GPU (WebGPU${facts.adapter?.description ? `, ${facts.adapter.description}` : ''}).`;
    case 'wasm':
      return `Runs on the CPU (WebAssembly)${softwareGpu || !backend?.adapter ? ', since this browser has no hardware GPU' : ''}.`;
    default:
      return `Runs on the CPU (${facts.backend}), the slowest backend.`;
  }
}

/** The model panel's first words: what this model is, what it can learn, where it runs. */
export function ModelIntro({ facts, backend }: { facts: ModelFacts; backend: BackendChoice | null }) {
  const { what, can } = whatItCanDo(facts);
  return (
    <div className="model-intro" data-testid="model-intro">
      <p><strong>{facts.name.split('/').pop()}</strong> is {what}. {can}</p>
      <p className="muted small" data-testid="model-runs">{whereItRuns(facts, backend)} Nothing you load or train leaves this browser.</p>
    </div>
  );
}
