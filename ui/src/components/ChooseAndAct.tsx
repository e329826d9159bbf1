// A select of named choices and a button that acts on the chosen one: the "add to queue" and
// "add to dataset" controls of the trace page and of the traces table's selection.

import { useState } from "preact/hooks";

/** The first choice is chosen until another is; renders nothing without choices. */
export function ChooseAndAct<T>(props: {
  choices: T[];
  keyOf: (choice: T) => string;
  nameOf: (choice: T) => string;
  label: string;
  button: string;
  disabled?: boolean;
  onAct: (choice: T) => void;
  /** What the last action did, shown after the button. */
  message?: string;
}) {
  const [chosenKey, setChosenKey] = useState("");
  const chosen = props.choices.find((choice) => props.keyOf(choice) === chosenKey) ?? props.choices[0];
  if (chosen === undefined) return null;
  return (
    <span class="add-to-queue">
      <select aria-label={props.label} value={props.keyOf(chosen)} onChange={(event) => setChosenKey(event.currentTarget.value)}>
        {props.choices.map((choice) => (
          <option key={props.keyOf(choice)} value={props.keyOf(choice)}>
            {props.nameOf(choice)}
          </option>
        ))}
      </select>
      <button type="button" disabled={props.disabled} onClick={() => props.onAct(chosen)}>
        {props.button}
      </button>
      {props.message ? (
        <span class="small muted" role="status">
          {props.message}
        </span>
      ) : null}
    </span>
  );
}
