// Display formats for times, durations, money and counts.

export function latency(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(2)} s`;
  return duration(seconds);
}

/** A duration of a minute or more in its two largest units: "3 min 12 s", "3 h 12 min",
 * "2 d 4 h" (rounded down to whole seconds first). */
export function duration(seconds: number): string {
  const whole = Math.floor(seconds);
  const units: [number, string][] = [
    [86_400, "d"],
    [3_600, "h"],
    [60, "min"],
    [1, "s"],
  ];
  const first = units.findIndex(([size]) => whole >= size);
  if (first < 0) return "0 s";
  const [size, name] = units[first];
  const big = Math.floor(whole / size);
  if (first === units.length - 1) return `${big} ${name}`;
  const [nextSize, nextName] = units[first + 1];
  const small = Math.floor((whole - big * size) / nextSize);
  return small > 0 ? `${big} ${name} ${small} ${nextName}` : `${big} ${name}`;
}

export function cost(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value) || value <= 0) return "–";
  if (value < 0.01) return `$${value.toFixed(6)}`;
  return `$${value.toFixed(4)}`;
}

export function count(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value) || value === 0) return "–";
  return value.toLocaleString("en-US");
}

export function time(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function scoreValue(score: { value?: number | null; stringValue?: string | null }): string {
  if (score.stringValue) return score.stringValue;
  if (score.value == null) return "–";
  return Number.isInteger(score.value) ? String(score.value) : score.value.toFixed(2);
}

/** A list's total with its noun, "about" before it when the server estimated it:
 * "1,234 traces", "about 120,000 traces". */
export function total(meta: { totalItems: number; totalIsEstimate?: boolean }, noun: string): string {
  const figure = `${meta.totalItems.toLocaleString("en-US")} ${noun}`;
  return meta.totalIsEstimate ? `about ${figure}` : figure;
}
