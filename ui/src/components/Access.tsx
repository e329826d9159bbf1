// What the project settings and the organization page share: their API keys (loaded,
// created with the secret shown once, revoked) and the form that invites a member with a role.

import { useState } from "preact/hooks";
import { api } from "../api";
import { time } from "../format";
import { useLoad, type Loaded } from "../hooks";
import { Copy, InviteLink } from "./Copy";
import { TableHead } from "./Table";

export interface ApiKey {
  publicKey: string;
  secretHint: string;
  note?: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface ApiKeys {
  loaded: Loaded<{ data: ApiKey[] }>;
  /** The pair made last, its secret shown this once. */
  created: { publicKey: string; secretKey: string } | null;
  create: () => void;
  /** Asks `question` first; when confirmed, revokes the key. */
  revoke: (key: ApiKey, question: string) => void;
}

/** The API keys under `path` (a project's or an organization's `/keys`); every change reloads
 * them and calls `changed`, a refusal calls `fail`. */
export function useApiKeys(path: string, changed: () => void, fail: (reason: Error) => void): ApiKeys {
  const loaded = useLoad((signal) => api.get<{ data: ApiKey[] }>(path, signal), [path]);
  const [created, setCreated] = useState<{ publicKey: string; secretKey: string } | null>(null);
  const done = () => {
    loaded.reload(true);
    changed();
  };
  return {
    loaded,
    created,
    create: () =>
      api.post<{ publicKey: string; secretKey: string }>(path).then((pair) => {
        setCreated(pair);
        done();
      }, fail),
    revoke: (key, question) => {
      if (!confirm(question)) return;
      api.del(`${path}/${encodeURIComponent(key.publicKey)}`).then(done, fail);
    },
  };
}

/** The keys' table: public key (with its copy button), the secret's hint, the note (with
 * `note`), when created, whether revoked, and a Revoke button on the active ones when `revoke`
 * is given. */
export function ApiKeyTable(props: { keys: ApiKey[]; note?: boolean; rowTestId?: string; revoke: ((key: ApiKey) => void) | null }) {
  const { revoke } = props;
  return (
    <table class="data compact">
      <TableHead columns={props.note ? ["Public key", "Secret", "Note", "Created", "Status", ""] : ["Public key", "Secret", "Created", "Status", ""]} />
      <tbody>
        {props.keys.map((key) => (
          <tr key={key.publicKey} data-testid={props.rowTestId}>
            <td>
              <code>{key.publicKey}</code> <Copy value={key.publicKey} />
            </td>
            <td>
              <code>sk-…{key.secretHint}</code>
            </td>
            {props.note ? <td>{key.note ?? ""}</td> : null}
            <td>{time(key.createdAt)}</td>
            <td>{key.revokedAt ? `revoked ${time(key.revokedAt)}` : "active"}</td>
            <td>{revoke && !key.revokedAt ? <button type="button" class="danger" onClick={() => revoke(key)}>Revoke</button> : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Invites an email with one of `roles` (member at first) by POSTing to `path` (a project's or
 * an organization's `/members`), then calls `invited`; a new user's one-time sign-in link is
 * shown under the form. */
export function InviteForm(props: {
  path: string;
  roles: string[];
  emailLabel: string;
  roleLabel: string;
  invited: (email: string, signInPath: string | null) => void;
  fail: (reason: Error) => void;
}) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("member");
  const [inviteLink, setInviteLink] = useState("");
  return (
    <>
      <form
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          api.post<{ signInPath: string | null }>(props.path, { email, role }).then((answer) => {
            setInviteLink(answer.signInPath ? `${location.origin}${answer.signInPath}` : "");
            setEmail("");
            props.invited(email, answer.signInPath);
          }, props.fail);
        }}
      >
        <input type="email" required placeholder="email" aria-label={props.emailLabel} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <select aria-label={props.roleLabel} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
          {props.roles.map((name) => (
            <option key={name} value={name}>{name}</option>
          ))}
        </select>
        <button type="submit">Invite</button>
      </form>
      {inviteLink ? <InviteLink link={inviteLink} /> : null}
    </>
  );
}
