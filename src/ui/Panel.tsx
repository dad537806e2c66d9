import type { ReactNode } from 'react';
import type { StepId } from '../state/steps';
import { STEP_LABELS } from '../state/steps';

const NUMBER: Record<StepId, number> = { model: 1, data: 2, method: 3, train: 4, inspect: 5, export: 6 };

/** One step of the path: a section the step list links to, headed by its number and name. */
export function Panel({ step, title, aside, children, className }: {
  step: StepId;
  title?: string;
  aside?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const headingId = `${step}-heading`;
  return (
    <section id={`step-${step}`} className={`panel ${className ?? ''}`} aria-labelledby={headingId} tabIndex={-1}>
      <header className="panel-header">
        <h2 id={headingId}>
          <span className="step-number" aria-hidden="true">{NUMBER[step]}</span>
          {title ?? STEP_LABELS[step]}
        </h2>
        {aside}
      </header>
      {children}
    </section>
  );
}
