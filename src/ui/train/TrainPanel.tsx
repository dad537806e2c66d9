import { Panel } from '../Panel';
import { Headline } from './Headline';
import { LossChart } from './LossChart';
import { RunMemoryLine } from './RunMemoryLine';
import { RunNotices } from './RunNotices';
import { TrainControls } from './TrainControls';
import { TrainProgress } from './TrainProgress';
import { TrainStatusLine } from './TrainStatusLine';

export function TrainPanel() {
  return (
    <Panel step="train" className="train-panel">
      <TrainControls />
      <TrainStatusLine />
      <TrainProgress />
      <RunMemoryLine />
      <Headline />
      <LossChart />
      {/* Below the chart: a notice that appears mid-run moves nothing the user is watching. */}
      <RunNotices />
    </Panel>
  );
}
