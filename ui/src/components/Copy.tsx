// A button that copies a value (an id) to the clipboard, and the id cells of the tables.

import { useState } from "preact/hooks";
import { Link } from "../router";

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

/** An id in a table cell, as code (a link when `href` is given), with its copy button. */
export function CopyId(props: { value: string; href?: string }) {
  const code = <code class="small">{props.value}</code>;
  return (
    <span class="nowrap">
      {props.href ? <Link href={props.href}>{code}</Link> : code} <Copy value={props.value} />
    </span>
  );
}

/** A new key pair, shown once with its secret, each part with its copy button. */
export function NewKeyPair(props: { keys: { publicKey: string; secretKey: string }; secretTestId: string }) {
  return (
    <div class="secret" role="status">
      <p>Copy the secret key now: it is shown only this once.</p>
      <p>
        Public key <code>{props.keys.publicKey}</code> <Copy value={props.keys.publicKey} />
      </p>
      <p>
        Secret key <code data-testid={props.secretTestId}>{props.keys.secretKey}</code> <Copy value={props.keys.secretKey} />
      </p>
    </div>
  );
}

/** The one-time sign-in link of an invitation, with its copy button. */
export function InviteLink(props: { link: string }) {
  return (
    <p class="secret">
      Send this one-time sign-in link (valid 7 days): <code>{props.link}</code> <Copy value={props.link} />
    </p>
  );
}
