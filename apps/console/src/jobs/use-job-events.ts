import { useEffect, useRef, useState } from 'react';
import { subscribeJobEvents, type DrydockProblemError } from '../api';
import { applyEvent, emptyView, isTerminal, type JobView } from './view';

/**
 * A job's events replayed from the first, then followed live. Events are applied
 * as they come; the page re-renders at most once a frame, however fast they arrive.
 */
export function useJobEvents(jobId: string): { view: JobView; problem: DrydockProblemError | null } {
  const viewRef = useRef<JobView>(emptyView());
  const [, setVersion] = useState(0);
  const [problem, setProblem] = useState<DrydockProblemError | null>(null);

  useEffect(() => {
    viewRef.current = emptyView();
    setProblem(null);
    setVersion((version) => version + 1);
    let frame = 0;
    const render = () => {
      frame = 0;
      setVersion((version) => version + 1);
    };
    const unsubscribe = subscribeJobEvents(jobId, 1, {
      next: (event) => {
        if (applyEvent(viewRef.current, event) && !frame) frame = requestAnimationFrame(render);
      },
      error: (error) => {
        // After the terminal event the socket's end is no news.
        if (!isTerminal(viewRef.current.state)) setProblem(error);
      },
    });
    return () => {
      unsubscribe();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [jobId]);

  return { view: viewRef.current, problem };
}
