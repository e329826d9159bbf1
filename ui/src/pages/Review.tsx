// Review mode of an annotation queue, keyboard first: the item the server claimed for this
// reviewer (the one they hold, else the oldest pending one no other reviewer holds; nobody else
// is handed it for 5 minutes) with its object's input and output, and the queue's score
// configs as one form. Digit keys pick a category or flip a
// boolean (each button shows its digit), Enter saves the scores, completes the item and opens
// the next one, `s` skips the item for this visit.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, projectPath, type ScoreConfig } from "../api";
import { IoView } from "../components/Json";
import { Link } from "../router";

interface NextItem {
  queue: { id: string; name: string; description: string | null };
  configs: ScoreConfig[];
  pending: number;
  /** Pending items this reviewer could take (those no other reviewer holds). */
  available: number;
  item: { id: string; objectId: string; objectType: string; claimExpiresAt: string | null } | null;
  object: { name: string | null; input: unknown; output: unknown } | null;
}

/** What the form holds per config id: a numeric field's text, a category's value, a boolean. */
export type Answers = Record<string, string | number | boolean>;

/** A digit key's target: a category of a categorical config or a boolean config. */
export interface DigitKey {
  digit: string;
  configId: string;
  /** The category's value; absent for a boolean toggle. */
  value?: number;
}

/** Digits 1–9 then 0, given in order to the categories and boolean toggles of the configs. */
export function digitKeys(configs: ScoreConfig[]): DigitKey[] {
  const keys: DigitKey[] = [];
  const digits = "1234567890";
  for (const config of configs) {
    if (config.dataType === "CATEGORICAL") {
      for (const category of config.categories ?? []) keys.push({ digit: "", configId: config.id, value: category.value });
    } else if (config.dataType === "BOOLEAN") keys.push({ digit: "", configId: config.id });
  }
  return keys.slice(0, digits.length).map((key, index) => ({ ...key, digit: digits[index] }));
}

/**
 * The scores to send for the answers given (configs left blank are left out), or the first
 * problem: a numeric value that is not a number or lies outside the config's range.
 */
export function scoresOf(configs: ScoreConfig[], answers: Answers): { configId: string; value: number }[] | string {
  const scores: { configId: string; value: number }[] = [];
  for (const config of configs) {
    const answer = answers[config.id];
    if (answer === undefined || answer === "") continue;
    if (config.dataType === "BOOLEAN") {
      scores.push({ configId: config.id, value: answer === true ? 1 : 0 });
      continue;
    }
    const value = typeof answer === "number" ? answer : Number(answer);
    if (!Number.isFinite(value)) return `${config.name}: not a number`;
    if (config.minValue !== null && value < config.minValue) return `${config.name}: below the minimum ${config.minValue}`;
    if (config.maxValue !== null && value > config.maxValue) return `${config.name}: above the maximum ${config.maxValue}`;
    scores.push({ configId: config.id, value });
  }
  return scores;
}

/** Whether keys typed now go into a text field (so digits and `s` are text, not commands). */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target instanceof HTMLTextAreaElement || (target instanceof HTMLInputElement && target.type !== "checkbox");
}

export function Review(props: { projectId: string; queueId: string }) {
  const [next, setNext] = useState<NextItem | null>(null);
  const [answers, setAnswers] = useState<Answers>({});
  const [comment, setComment] = useState("");
  const [error, setError] = useState("");
  const [saving, setSaving] = useState(false);
  const [done, setDone] = useState(0);
  const skipped = useRef<string[]>([]);
  const first = useRef<HTMLInputElement | HTMLButtonElement | null>(null);
  const queuePath = `/queues/${encodeURIComponent(props.queueId)}`;

  const load = () => {
    return api.post<NextItem>(projectPath(props.projectId, `${queuePath}/next`), { skip: skipped.current }).then(
      (loaded) => {
        setNext(loaded);
        setAnswers({});
        setComment("");
        setError("");
      },
      (reason: Error) => setError(reason.message),
    );
  };
  useEffect(() => {
    skipped.current = [];
    void load();
  }, [props.projectId, props.queueId]);
  useEffect(() => {
    first.current?.focus();
  }, [next?.item?.id]);

  const configs = next?.configs ?? [];
  const keys = digitKeys(configs);
  // An item opens with the first numeric field focused (typing goes there), else the first control.
  const focusIndex = Math.max(
    0,
    configs.findIndex((config) => config.dataType === "NUMERIC"),
  );
  const item = next?.item ?? null;

  const save = () => {
    if (!item || saving) return;
    const scores = scoresOf(configs, answers);
    if (typeof scores === "string") {
      setError(scores);
      return;
    }
    setSaving(true);
    api
      .post(projectPath(props.projectId, `${queuePath}/items/${encodeURIComponent(item.id)}/complete`), {
        scores,
        comment: comment.trim() || null,
      })
      .then(
        () => {
          setDone((count) => count + 1);
          return load();
        },
        (reason: Error) => setError(reason.message),
      )
      .finally(() => setSaving(false));
  };
  const skip = () => {
    if (!item) return;
    skipped.current = [...skipped.current, item.id];
    void load();
  };
  const press = (key: DigitKey) =>
    setAnswers((current) => ({
      ...current,
      [key.configId]: key.value === undefined ? current[key.configId] !== true : key.value,
    }));

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Enter" && !(event.shiftKey && event.target instanceof HTMLTextAreaElement)) {
      event.preventDefault();
      save();
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape" && event.target instanceof HTMLElement) event.target.blur();
      return;
    }
    if (event.key === "s") {
      event.preventDefault();
      skip();
      return;
    }
    const key = keys.find((candidate) => candidate.digit === event.key);
    if (key) {
      event.preventDefault();
      press(key);
    }
  };
  // The listener stays for the page's life and calls the handler of the latest render, so a
  // key pressed right after another sees the answers that key gave.
  const handler = useRef(onKeyDown);
  handler.current = onKeyDown;
  useEffect(() => {
    const listener = (event: KeyboardEvent) => handler.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  const digitOf = (configId: string, value?: number) =>
    keys.find((key) => key.configId === configId && key.value === value)?.digit;

  return (
    <div class="page review-mode">
      <p class="small">
        <Link href={`/project/${encodeURIComponent(props.projectId)}/queues`}>Annotation queues</Link> /{" "}
        {next?.queue.name ?? props.queueId}
      </p>
      <h1>Review: {next?.queue.name ?? ""}</h1>
      <p class="muted small" role="status" aria-label="Review progress">
        {next ? `${next.pending} pending · ${next.available} for you · ${done} reviewed now` : "Loading…"}
      </p>
      <p class="muted small">
        Keys: digits pick a category or flip a yes/no · Enter saves and opens the next item · Shift+Enter is a new line in the
        comment · Esc leaves a field · s skips
      </p>
      {error ? (
        <p class="error-box" role="alert">
          {error}
        </p>
      ) : null}
      {next && !item ? (
        <p class="pad">
          {next.pending === 0
            ? "Nothing left to review in this queue."
            : next.available > 0
              ? "Only the items you skipped are left."
              : "Every pending item is open with another reviewer; try again in a few minutes."}
        </p>
      ) : null}
      {item && next ? (
        <div class="review-item">
          <section class="card" aria-label="Queued object">
            <h3>
              {item.objectType.toLowerCase()} <code>{item.objectId}</code> {next.object?.name ? `· ${next.object.name}` : ""}
            </h3>
            <IoView value={next.object?.input ?? null} label="Input" projectId={props.projectId} />
            <IoView value={next.object?.output ?? null} label="Output" projectId={props.projectId} />
          </section>
          <form
            class="card add-score"
            aria-label="Scores"
            onSubmit={(event) => {
              event.preventDefault();
              save();
            }}
          >
            {configs.map((config, index) => {
              const ref =
                index === focusIndex
                  ? (element: HTMLInputElement | HTMLButtonElement | null) => {
                      first.current = element;
                    }
                  : undefined;
              return (
                <div class="review-config" key={config.id}>
                  <label class="small">{config.name}</label>
                  {config.dataType === "NUMERIC" ? (
                    <input
                      ref={ref}
                      type="number"
                      step="any"
                      aria-label={config.name}
                      min={config.minValue ?? undefined}
                      max={config.maxValue ?? undefined}
                      placeholder={`${config.minValue ?? "−∞"} … ${config.maxValue ?? "∞"}`}
                      value={typeof answers[config.id] === "string" ? (answers[config.id] as string) : ""}
                      onInput={(event) => {
                        const text = event.currentTarget.value;
                        setAnswers((current) => ({ ...current, [config.id]: text }));
                      }}
                    />
                  ) : config.dataType === "CATEGORICAL" ? (
                    <span role="group" aria-label={config.name}>
                      {(config.categories ?? []).map((category, position) => {
                        const digit = digitOf(config.id, category.value);
                        const chosen = answers[config.id] === category.value;
                        return (
                          <button
                            key={category.value}
                            ref={position === 0 ? ref : undefined}
                            type="button"
                            class={chosen ? "primary" : ""}
                            aria-pressed={chosen}
                            onClick={() => setAnswers((current) => ({ ...current, [config.id]: category.value }))}
                          >
                            {digit ? <kbd>{digit}</kbd> : null} {category.label}
                          </button>
                        );
                      })}
                    </span>
                  ) : config.dataType === "BOOLEAN" ? (
                    <button
                      ref={ref}
                      type="button"
                      role="switch"
                      aria-label={config.name}
                      aria-checked={answers[config.id] === true}
                      onClick={() => press({ digit: "", configId: config.id })}
                    >
                      {digitOf(config.id) ? <kbd>{digitOf(config.id)}</kbd> : null}{" "}
                      {answers[config.id] === undefined ? "unset" : answers[config.id] === true ? "yes" : "no"}
                    </button>
                  ) : (
                    <span class="muted small">text scores are not part of review mode</span>
                  )}
                </div>
              );
            })}
            <textarea aria-label="Comment" placeholder="comment (optional)" value={comment} onInput={(event) => setComment(event.currentTarget.value)} />
            <span>
              <button type="submit" class="primary" disabled={saving}>
                Save and next <kbd>Enter</kbd>
              </button>{" "}
              <button type="button" onClick={skip}>
                Skip <kbd>s</kbd>
              </button>
            </span>
          </form>
        </div>
      ) : null}
    </div>
  );
}
