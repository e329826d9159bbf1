// Display formats for times, durations, money and counts.

export function latency(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(2)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m ${Math.round(seconds - minutes * 60)}s`;
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
