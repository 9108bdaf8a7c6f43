import type { LogLine } from './view';

/** Output lines in a box of their own that scrolls (and takes focus, so a keyboard can scroll it too). */
export function LogLines({ lines, label }: { lines: LogLine[]; label: string }) {
  return (
    <div className="log" role="log" aria-label={label} tabIndex={0}>
      {lines.map((line) => (
        <div key={line.sequence} className={line.stderr ? 'line stderr' : 'line'}>
          {line.text || ' '}
        </div>
      ))}
    </div>
  );
}
