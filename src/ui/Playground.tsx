import { useState } from 'react';
import { useModelStore } from '../state/modelStore';

export function Playground() {
  const { status, generating, generated, generateError, generate } = useModelStore();
  const [prompt, setPrompt] = useState('Once upon a time');
  const [maxNewTokens, setMaxNewTokens] = useState(64);
  const ready = status === 'ready';
  return (
    <section className="panel" aria-labelledby="playground-heading">
      <h2 id="playground-heading">Try the model</h2>
      <form
        className="playground"
        onSubmit={(e) => {
          e.preventDefault();
          if (ready && !generating) void generate(prompt, maxNewTokens);
        }}
      >
        <label>
          Prompt
          <textarea value={prompt} onChange={(e) => setPrompt(e.target.value)} rows={3} data-testid="prompt-input" />
        </label>
        <label>
          New tokens
          <input type="number" min={1} max={512} value={maxNewTokens}
            onChange={(e) => setMaxNewTokens(Math.max(1, Number(e.target.value) || 1))} data-testid="max-new-tokens" />
        </label>
        <button type="submit" disabled={!ready || generating} data-testid="generate-button">
          {generating ? 'Generating…' : 'Continue (greedy)'}
        </button>
      </form>
      {generateError && <p className="error" role="alert">{generateError}</p>}
      <output className="generated" data-testid="generated-text" data-done={String(!generating && generated !== '')}>
        {generated}
      </output>
    </section>
  );
}
