// A button that copies a value (an id) to the clipboard.

import { useState } from "preact/hooks";

export function Copy(props: { value: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="copy"
      title={`Copy ${props.value}`}
      onClick={() => {
        navigator.clipboard?.writeText(props.value).then(
          () => {
            setDone(true);
            setTimeout(() => setDone(false), 1200);
          },
          () => setDone(false),
        );
      }}
    >
      {done ? "copied" : (props.label ?? "copy")}
    </button>
  );
}
