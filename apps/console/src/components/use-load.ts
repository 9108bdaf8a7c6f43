import { useCallback, useEffect, useState } from 'react';
import { problemOf, type DrydockProblemError } from '../api';

/** Loads on mount and whenever `key` changes; a failure is kept as the problem to show. */
export function useLoad<T>(load: () => Promise<T>, key: string): { data: T | null; problem: DrydockProblemError | null; reload: () => void; loading: boolean } {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<DrydockProblemError | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  useEffect(() => {
    let current = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!current) return;
        setData(value);
        setProblem(null);
        setLoading(false);
      },
      (error: unknown) => {
        if (!current) return;
        setProblem(problemOf(error));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
    // `load` is a fresh closure each render; `key` says when what it loads changed.
  }, [key, round]);
  return { data, problem, reload, loading };
}

/** Runs an action, keeping its problem for the alert region; resolves undefined when it failed. */
export function useAction(): {
  run: <T>(action: () => Promise<T>) => Promise<T | undefined>;
  busy: boolean;
  problem: DrydockProblemError | null;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<DrydockProblemError | null>(null);
  const run = useCallback(async <T,>(action: () => Promise<T>) => {
    setBusy(true);
    setProblem(null);
    try {
      return await action();
    } catch (error) {
      setProblem(problemOf(error));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, problem, clear: () => setProblem(null) };
}
