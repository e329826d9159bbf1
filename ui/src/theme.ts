// Light and dark themes: the saved choice, else the system's.

export type Theme = "light" | "dark";

export function initialTheme(): Theme {
  const saved = localStorage.getItem("spindle-theme");
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme: Theme) {
  document.documentElement.dataset.theme = theme;
}

export function saveTheme(theme: Theme) {
  localStorage.setItem("spindle-theme", theme);
  applyTheme(theme);
}
