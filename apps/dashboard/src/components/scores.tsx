'use client';

/** Class probabilities as horizontal bars; the top class is highlighted. */
export function ScoreBars({ probabilities, classes }: { probabilities: number[]; classes: string[] }) {
  const top = probabilities.indexOf(Math.max(...probabilities));
  return (
    <div className="bars">
      {probabilities.map((p, i) => (
        <div className="bar" key={i} title={`${classes[i] ?? `class ${i}`}: ${(p * 100).toFixed(1)}%`}>
          <span>{classes[i] ?? i}</span>
          <div className="track">
            <div className={`fill ${i === top ? 'top' : ''}`} style={{ width: `${Math.max(0, Math.min(1, p)) * 100}%` }} />
          </div>
          <span>{(p * 100).toFixed(0)}%</span>
        </div>
      ))}
    </div>
  );
}
