import { ModelPanel } from './ModelPanel';
import { Playground } from './Playground';

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1>Prompt Tuning Studio</h1>
        <p className="tagline">Train soft prompts for a frozen, quantized language model, on your own machine.</p>
      </header>
      <main>
        <ModelPanel />
        <Playground />
      </main>
    </div>
  );
}
