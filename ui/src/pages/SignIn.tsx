// The sign-in form.

import { useState } from "preact/hooks";
import { api } from "../api";

export function SignIn(props: { onSignedIn: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <div class="center">
      <form
        class="card signin"
        onSubmit={(event) => {
          event.preventDefault();
          setBusy(true);
          setError("");
          api
            .post("/api/ui/auth/sign-in", { email, password })
            .then(props.onSignedIn, (reason: Error) => setError(reason.message))
            .finally(() => setBusy(false));
        }}
      >
        <h1>Sign in to Spindle</h1>
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error ? <p class="error-box" role="alert">{error}</p> : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
