import { useState } from 'react';
import { useModelStore } from '../../state/modelStore';
import { ErrorNote } from '../ErrorNote';
import { submitOnModEnter } from '../keyboard';

/** A greedy continuation, to see what the frozen model knows before tuning anything. */
export function TryModel() {
  const status = useModelStore((s) => s.status);
  const generating = useModelStore((s) => s.generating);
  const generated = useModelStore((s) => s.generated);
  const generateError = useModelStore((s) => s.generateError);
  const generate = useModelStore((s) => s.generate);
  const [prompt, setPrompt] = useState('Once upon a time');
  const [maxNewTokens, setMaxNewTokens] = useState(32);
  const ready = status === 'ready';
  return (
    <div className="try-model">
      <h3>Try the model</h3>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (ready && !generating) void generate(prompt, maxNewTokens);
        }}
      >
        <label className="grow">
          Prompt
          <textarea value={prompt} onChange={(e) => setPrompt(e.target.value)} onKeyDown={submitOnModEnter} rows={2} data-testid="prompt-input" />
        </label>
        <label>
          New tokens
          <input type="number" min={1} max={512} value={maxNewTokens} size={5}
            onChange={(e) => setMaxNewTokens(Math.max(1, Number(e.target.value) || 1))} data-testid="max-new-tokens" />
        </label>
        <button type="submit" disabled={!ready || generating} data-testid="generate-button" title="Continue (Ctrl+Enter in the prompt)">
          {generating ? 'Generating…' : 'Continue'}
        </button>
      </form>
      <ErrorNote error={generateError} />
      <output className="generated" data-testid="generated-text" data-done={String(!generating && generated !== '')} aria-live="polite">
        {generated}
      </output>
    </div>
  );
}
