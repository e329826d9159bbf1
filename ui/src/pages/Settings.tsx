// Project settings: API keys (the secret shown once), score configs, the dashboard's
// rolled-up metadata keys, members and invitations, the audit log (admins and owners), and
// the signed-in user's password.

import { useState } from "preact/hooks";
import { api, projectPath, type Me } from "../api";
import { assignableRoles } from "../organizations";
import { useLoad } from "../hooks";
import { ApiKeyTable, InviteForm, useApiKeys } from "../components/Access";
import { NewKeyPair } from "../components/Copy";
import { AuditLog } from "./AuditLog";
import { RolledMetadataKeys } from "./RolledMetadata";
import { ScoreConfigs } from "./ScoreConfigs";

export function Settings(props: { projectId: string; role: string; me: Me; welcome: boolean }) {
  const members = useLoad((signal) => api.get<{ data: { email: string; role: string }[] }>(projectPath(props.projectId, "/members"), signal), [props.projectId]);
  const [password, setPassword] = useState("");
  const [currentPassword, setCurrentPassword] = useState("");
  // A user who signed in with a one-time link sets a first password without a current one.
  const [hasPassword, setHasPassword] = useState(props.me.user.hasPassword);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  // Bumped by every change made here, so the audit log shows it.
  const [changes, setChanges] = useState(0);
  const changed = () => setChanges((count) => count + 1);
  // Admins and owners manage keys and members; only owners make owners.
  const manage = props.role === "owner" || props.role === "admin";
  const fail = (reason: Error) => setError(reason.message);
  const keys = useApiKeys(projectPath(props.projectId, "/keys"), changed, fail);
  return (
    <div class="page settings">
      <h1>Settings</h1>
      {props.welcome && !props.me.user.hasPassword ? <p class="card notice">Welcome! Set a password below so you can sign in again.</p> : null}
      {error ? <p class="error-box" role="alert">{error}</p> : null}
      {message ? <p class="card notice">{message}</p> : null}
      <section class="card">
        <h2>API keys</h2>
        {keys.created ? <NewKeyPair keys={keys.created} secretTestId="secret-key" /> : null}
        <ApiKeyTable keys={keys.loaded.data?.data ?? []} revoke={manage ? (key) => keys.revoke(key, `Revoke ${key.publicKey}? SDKs using it will be refused.`) : null} />
        {manage ? (
          <button type="button" class="primary" onClick={keys.create}>
            Create API key
          </button>
        ) : (
          <p class="muted">Only admins and owners create and revoke keys.</p>
        )}
      </section>
      <ScoreConfigs projectId={props.projectId} owner={manage} fail={fail} />
      <RolledMetadataKeys projectId={props.projectId} manage={manage} fail={fail} changed={changed} />
      <section class="card">
        <h2>Members</h2>
        <ul>
          {(members.data?.data ?? []).map((member) => (
            <li key={member.email}>
              {member.email} <span class="muted">{member.role}</span>
            </li>
          ))}
        </ul>
        {(members.data?.data ?? []).length === 0 ? <p class="muted">Only admins so far.</p> : null}
        {manage ? (
          <InviteForm
            path={projectPath(props.projectId, "/members")}
            roles={assignableRoles(props.role)}
            emailLabel="Invite email"
            roleLabel="Invite role"
            invited={(email, signInPath) => {
              setMessage(signInPath ? "" : `${email} can now open this project.`);
              members.reload(true);
              changed();
            }}
            fail={fail}
          />
        ) : null}
      </section>
      {manage ? <AuditLog base={projectPath(props.projectId, "")} version={changes} /> : null}
      <section class="card">
        <h2>Your password</h2>
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            api.post("/api/ui/me/password", hasPassword ? { password, currentPassword } : { password }).then(() => {
              setPassword("");
              setCurrentPassword("");
              setHasPassword(true);
              setMessage("Password saved. Your other sessions are signed out.");
            }, fail);
          }}
        >
          {hasPassword ? (
            <input type="password" autocomplete="current-password" required placeholder="current password" aria-label="Current password" value={currentPassword} onInput={(e) => setCurrentPassword(e.currentTarget.value)} />
          ) : null}
          <input type="password" autocomplete="new-password" minLength={8} required placeholder="new password (8+ characters)" aria-label="New password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          <button type="submit">Save password</button>
        </form>
      </section>
    </div>
  );
}
