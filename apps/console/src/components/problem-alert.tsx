import type { DrydockProblemError } from '../api';

/** The API's own words for a refusal: title, detail and the stable code, in a live alert region. */
export function ProblemAlert({ problem, onDismiss }: { problem: DrydockProblemError | null; onDismiss?: () => void }) {
  return (
    <div role="alert" className={problem ? 'alert' : 'alert-empty'}>
      {problem && (
        <>
          <p className="alert-title">
            {problem.title}
            {problem.status > 0 && <span className="alert-status"> ({problem.status})</span>}
          </p>
          {problem.detail && <p className="alert-detail">{problem.detail}</p>}
          <p className="alert-code">
            <code>{problem.code}</code>
          </p>
          {onDismiss && (
            <button type="button" className="link-button" onClick={onDismiss}>
              Dismiss
            </button>
          )}
        </>
      )}
    </div>
  );
}
