// Hand-rolled SVG charts: vertical bars over time (plain or stacked by series) and horizontal
// bars by key. With `loading`, an empty chart says so instead of "No data".

/** What an empty chart says: "Loading…" while its data loads, else that there is none. */
export function EmptyChart(props: { loading?: boolean }) {
  return <p class="muted">{props.loading ? "Loading…" : "No data in this range."}</p>;
}

/** What an empty chart says: the note when there is one (why it has no data), else
 * [`EmptyChart`]. */
export function EmptyOrNote(props: { loading?: boolean; note?: string }) {
  return props.note ? <p class="muted">{props.note}</p> : <EmptyChart loading={props.loading} />;
}

/** Vertical bars, one per point: a stack of one series. */
export function Bars(props: { points: { label: string; value: number }[]; format: (v: number) => string; title: string; loading?: boolean; note?: string }) {
  return (
    <StackedBars
      title={props.title}
      labels={props.points.map((point) => point.label)}
      series={[{ name: props.title, values: props.points.map((point) => point.value) }]}
      format={props.format}
      loading={props.loading}
      note={props.note}
    />
  );
}

export function HBars(props: { items: { label: string; value: number }[]; format: (v: number) => string; title: string; loading?: boolean; note?: string }) {
  const max = Math.max(1e-12, ...props.items.map((item) => item.value));
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {props.items.length === 0 ? <EmptyOrNote loading={props.loading} note={props.note} /> : null}
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

/** Vertical bars of several series stacked per label, with a legend when there are several
 * (series in order; the colours repeat after eight). */
export function StackedBars(props: {
  labels: string[];
  series: { name: string; values: number[] }[];
  format: (v: number) => string;
  title: string;
  loading?: boolean;
  /** Said under the chart (why it is cut short), or instead of it (why it has no data). */
  note?: string;
}) {
  const width = 600;
  const height = 160;
  const totals = props.labels.map((_, index) => props.series.reduce((sum, series) => sum + (series.values[index] ?? 0), 0));
  const max = Math.max(1e-12, ...totals);
  const step = props.labels.length > 0 ? width / props.labels.length : width;
  const barWidth = Math.min(step * 0.7, 48);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {props.labels.length === 0 ? (
        <EmptyOrNote loading={props.loading} note={props.note} />
      ) : (
        <>
          <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={props.title}>
            {props.labels.map((label, index) => {
              let top = height;
              return (
                <g key={label}>
                  {props.series.map((series, at) => {
                    const value = series.values[index] ?? 0;
                    if (value <= 0) return null;
                    const h = Math.max((value / max) * height, 1);
                    top -= h;
                    return (
                      <rect key={series.name} x={index * step + (step - barWidth) / 2} y={top} width={barWidth} height={h} class={`bar series-${at % 8}`}>
                        <title>{`${label}${props.series.length > 1 ? ` · ${series.name}` : ""}: ${props.format(value)}`}</title>
                      </rect>
                    );
                  })}
                  {props.labels.length <= 16 || index % Math.ceil(props.labels.length / 8) === 0 ? (
                    <text x={index * step + step / 2} y={height + 14} text-anchor="middle" class="axis">
                      {label.slice(5)}
                    </text>
                  ) : null}
                </g>
              );
            })}
          </svg>
          {props.series.length > 1 ? (
            <ul class="legend">
            {props.series.map((series, at) => (
              <li key={series.name}>
                <span class={`swatch series-${at % 8}`} />
                {series.name}
              </li>
              ))}
            </ul>
          ) : null}
          {props.note ? <p class="muted">{props.note}</p> : null}
        </>
      )}
    </figure>
  );
}
