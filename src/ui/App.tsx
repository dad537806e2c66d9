import { DataPanel } from './data/DataPanel';
import { ExportPanel } from './export/ExportPanel';
import { ResumeOffer } from './history/ResumeOffer';
import { RunHistoryPanel } from './history/RunHistoryPanel';
import { InspectPanel } from './inspect/InspectPanel';
import { MethodPanel } from './method/MethodPanel';
import { ModelPanel } from './model/ModelPanel';
import { ProjectionPanel } from './projection/ProjectionPanel';
import { PromptsPanel } from './prompts/PromptsPanel';
import { StepNav } from './StepNav';
import { TrainPanel } from './train/TrainPanel';

/**
 * One page, one path: the set-up steps on the left, what the run shows live on the right
 * (one column on narrower screens, in the same order, which is also the tab order).
 */
export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <div className="title">
          <h1>Prompt Tuning Studio</h1>
          <p className="tagline">Train a soft prompt for a frozen, quantized language model, on your own machine. Nothing leaves the browser.</p>
        </div>
        <StepNav />
      </header>
      <ResumeOffer />
      <main className="layout">
        <div className="column setup">
          <ModelPanel />
          <DataPanel />
          <MethodPanel />
        </div>
        <div className="column live">
          <TrainPanel />
          <ProjectionPanel />
          <InspectPanel />
          <ExportPanel />
          <PromptsPanel />
          <RunHistoryPanel />
        </div>
      </main>
    </div>
  );
}
