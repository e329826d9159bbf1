// Hand-rolled SVG charts: vertical bars over days and horizontal bars by key.

export function Bars(props: { points: { label: string; value: number }[]; format: (v: number) => string; title: string }) {
  const width = 600;
  const height = 160;
  const max = Math.max(1e-12, ...props.points.map((p) => p.value));
  const step = props.points.length > 0 ? width / props.points.length : width;
  const barWidth = Math.min(step * 0.7, 48);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {props.points.length === 0 ? (
        <p class="muted">No data in this range.</p>
      ) : (
        <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={props.title}>
          {props.points.map((point, index) => {
            const h = (point.value / max) * height;
            return (
              <g key={point.label}>
                <rect x={index * step + (step - barWidth) / 2} y={height - h} width={barWidth} height={Math.max(h, point.value > 0 ? 1 : 0)} class="bar">
                  <title>{`${point.label}: ${props.format(point.value)}`}</title>
                </rect>
                {props.points.length <= 16 || index % Math.ceil(props.points.length / 8) === 0 ? (
                  <text x={index * step + step / 2} y={height + 14} text-anchor="middle" class="axis">
                    {point.label.slice(5)}
                  </text>
                ) : null}
              </g>
            );
          })}
        </svg>
      )}
    </figure>
  );
}

export function HBars(props: { items: { label: string; value: number }[]; format: (v: number) => string; title: string }) {
  const max = Math.max(1e-12, ...props.items.map((item) => item.value));
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {props.items.length === 0 ? <p class="muted">No data in this range.</p> : null}
      {props.items.map((item) => (
        <div class="hbar" key={item.label}>
          <span class="hbar-label">{item.label}</span>
          <span class="hbar-track">
            <span class="hbar-fill" style={{ width: `${(item.value / max) * 100}%` }} />
          </span>
          <span class="hbar-value">{props.format(item.value)}</span>
        </div>
      ))}
    </figure>
  );
}
