import { useEffect, useState } from 'react';
import { seconds } from '../components/format';
import { LogLines } from './log-lines';
import { failingStep, isTerminal, stepDone, stepSeconds, type JobView, type StepView } from './view';

function stepStatus(view: JobView, step: StepView, failing: StepView | undefined): string {
  if (step === failing) return 'failed';
  if (step.cached) return 'cached';
  if (stepDone(view, step)) return 'done';
  if (isTerminal(view.state)) return 'stopped';
  // BuildKit names every step of the graph up front; one has begun once it has a start time.
  return step.startedAt || step.key.startsWith('step-') ? 'running' : 'waiting';
}

/** The build's steps in order as they arrive: cached ones marked, durations, each step's lines under it, the failing one open. */
export function BuildSteps({ view }: { view: JobView }) {
  const failing = failingStep(view);
  const [now, setNow] = useState(() => Date.now());
  const running = !isTerminal(view.state);
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return (
    <section aria-labelledby="steps-title">
      <h2 id="steps-title">Steps</h2>
      {view.steps.length === 0 && <p className="hint">No step has started yet.</p>}
      <ol className="steps" aria-label="Build steps">
        {view.steps.map((step) => {
          const status = stepStatus(view, step, failing);
          return (
            <li key={step.key} className={`step step-${status}`} data-status={status}>
              <details open={step === failing || undefined}>
                <summary>
                  <span className="step-name">{step.name}</span>
                  <span className={`badge step-badge-${status}`}>{status}</span>
                  <span className="step-time">{seconds(stepSeconds(view, step, now))}</span>
                </summary>
                {step.error && <p className="step-error">{step.error}</p>}
                {step.lines.length > 0 ? <LogLines lines={step.lines} label={`Output of ${step.name}`} /> : <p className="hint">No output.</p>}
              </details>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
