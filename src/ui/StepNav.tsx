import { useStepStatuses, type StepStatus } from '../state/steps';

const MARK: Record<StepStatus['state'], string> = { done: '✓', ready: '●', waiting: '○' };
const SPOKEN: Record<StepStatus['state'], string> = { done: 'done', ready: 'ready', waiting: 'waiting' };

/**
 * The path through the studio as a list of links to its sections, each saying whether it
 * is done, ready or waiting. The first step not done is the current one.
 */
export function StepNav() {
  const steps = useStepStatuses();
  const current = steps.find((s) => s.state !== 'done')?.id;
  return (
    <nav className="step-nav" aria-label="Steps">
      <ol>
        {steps.map((s, i) => (
          <li key={s.id} data-state={s.state} data-testid={`step-${s.id}`}>
            <a
              href={`#step-${s.id}`}
              aria-current={s.id === current ? 'step' : undefined}
              onClick={(e) => {
                // Move focus with the scroll, so the keyboard continues from the section.
                e.preventDefault();
                const target = document.getElementById(`step-${s.id}`);
                target?.scrollIntoView({ behavior: 'smooth', block: 'start' });
                target?.focus({ preventScroll: true });
              }}
            >
              <span className="step-mark" aria-hidden="true">{MARK[s.state]}</span>
              <span className="step-name">{i + 1}. {s.label}</span>
              <span className="step-note">
                <span className="visually-hidden">{SPOKEN[s.state]}: </span>{s.note}
              </span>
            </a>
          </li>
        ))}
      </ol>
    </nav>
  );
}
