// A small line chart drawn as inline SVG (no chart library): one line for all students,
// withheld periods left as gaps. The SVG is an image with a text alternative; the same
// numbers are in the table beside it.

export interface ChartPoint {
  label: string;
  value: number | null;
}

const W = 560;
const H = 200;
const PAD = { left: 64, right: 16, top: 12, bottom: 34 };

/** A line chart of `points`; `format` writes axis values; `label` is the text alternative. */
export function LineChart({ points, format, label }: { points: ChartPoint[]; format: (v: number) => string; label: string }) {
  const shown = points.filter((p) => p.value !== null).map((p) => p.value as number);
  if (shown.length === 0) {
    return null;
  }
  let lo = Math.min(...shown);
  let hi = Math.max(...shown);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const span = hi - lo;
  lo -= span * 0.1;
  hi += span * 0.1;
  const x = (i: number) => PAD.left + (points.length <= 1 ? (W - PAD.left - PAD.right) / 2 : (i * (W - PAD.left - PAD.right)) / (points.length - 1));
  const y = (v: number) => PAD.top + ((hi - v) * (H - PAD.top - PAD.bottom)) / (hi - lo);
  // Runs of shown points, split where a value is withheld.
  const runs: string[] = [];
  let run: string[] = [];
  points.forEach((p, i) => {
    if (p.value === null) {
      if (run.length > 0) runs.push(run.join(" "));
      run = [];
    } else {
      run.push(`${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
    }
  });
  if (run.length > 0) runs.push(run.join(" "));
  const ticks = [lo + (hi - lo) * 0.1, (lo + hi) / 2, hi - (hi - lo) * 0.1];
  const labelEvery = Math.max(1, Math.ceil(points.length / 5));
  return (
    <svg class="pub-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="xMidYMid meet">
      <rect x={PAD.left} y={PAD.top} width={W - PAD.left - PAD.right} height={H - PAD.top - PAD.bottom} class="pub-chart-bg" />
      {ticks.map((v) => (
        <g key={v}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} class="pub-chart-grid" />
          <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end" class="pub-chart-text">
            {format(v)}
          </text>
        </g>
      ))}
      {points.map((p, i) =>
        i % labelEvery === 0 ? (
          <text key={p.label} x={x(i)} y={H - 12} text-anchor={i === 0 ? "start" : i === points.length - 1 ? "end" : "middle"} class="pub-chart-text">
            {p.label}
          </text>
        ) : null,
      )}
      {runs.map((r) => (
        <polyline key={r} points={r} class="pub-chart-line" fill="none" />
      ))}
      {points.map((p, i) =>
        p.value === null ? (
          <text key={`h${p.label}`} x={x(i)} y={H - PAD.bottom - 4} text-anchor="middle" class="pub-chart-gap">
            ×
          </text>
        ) : (
          <circle key={`c${p.label}`} cx={x(i)} cy={y(p.value)} r={4} class="pub-chart-dot" />
        ),
      )}
    </svg>
  );
}
