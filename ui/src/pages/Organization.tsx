// An organization: its projects, its API keys (the secret shown once) and its members with
// their roles (invite with a role, change a role, remove), and its audit log. Admins and
// owners get the controls, only owners make or change owners, and instance admins create
// organizations here. The server refuses whatever a role may not do; the page only leaves
// out the controls a role cannot use.

import { useState } from "preact/hooks";
import { api, organizationPath, type Me } from "../api";
import { assignableRoles } from "../organizations";
import { useLoad } from "../hooks";
import { Link } from "../router";
import { ApiKeyTable, InviteForm, useApiKeys } from "../components/Access";
import { NewKeyPair } from "../components/Copy";
import { TableHead } from "../components/Table";
import { AuditLog } from "./AuditLog";

interface Member {
  userId: string;
  email: string;
  role: string;
}

export function Organization(props: { projectId: string; me: Me; onChanged: () => void }) {
  const current = props.me.projects.find((project) => project.id === props.projectId);
  const organizations = props.me.organizations;
  const [chosen, setChosen] = useState(current?.organizationId ?? organizations[0]?.id ?? "");
  const organization = organizations.find((candidate) => candidate.id === chosen) ?? organizations[0];
  const [error, setError] = useState("");
  const fail = (reason: Error) => setError(reason.message);
  return (
    <div class="page settings organization">
      <h1>Organization</h1>
      {error ? <p class="error-box" role="alert">{error}</p> : null}
      {organizations.length > 1 ? (
        <label>
          Organization{" "}
          <select aria-label="Organization" value={organization?.id} onChange={(event) => {
            setChosen(event.currentTarget.value);
            setError("");
          }}>
            {organizations.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>{candidate.name}</option>
            ))}
          </select>
        </label>
      ) : null}
      {organization ? (
        <OrganizationSections key={organization.id} organization={organization} me={props.me} fail={fail} />
      ) : (
        <p class="muted">You are not a member of an organization.</p>
      )}
      {props.me.user.admin ? (
        <NewOrganization
          fail={fail}
          created={(id) => {
            setChosen(id);
            props.onChanged();
          }}
        />
      ) : null}
    </div>
  );
}

function OrganizationSections(props: { organization: Me["organizations"][number]; me: Me; fail: (reason: Error) => void }) {
  const { organization, fail } = props;
  const manage = organization.role === "owner" || organization.role === "admin";
  const base = organizationPath(organization.id, "");
  // Bumped by every change made here, so the audit log shows it.
  const [changes, setChanges] = useState(0);
  const changed = () => setChanges((count) => count + 1);
  const projects = props.me.projects.filter((project) => project.organizationId === organization.id);
  return (
    <>
      <section class="card">
        <h2>{organization.name}</h2>
        <p class="muted">
          Your role: <strong data-testid="organization-role">{organization.role}</strong>
        </p>
        <h3>Projects</h3>
        {projects.length === 0 ? <p class="muted">No project you can open yet; create one with an organization API key.</p> : null}
        <ul>
          {projects.map((project) => (
            <li key={project.id}>
              <Link href={`/project/${encodeURIComponent(project.id)}/traces`}>{project.name}</Link>{" "}
              <span class="muted">{project.role}</span>
            </li>
          ))}
        </ul>
      </section>
      {manage ? <OrganizationKeys base={base} fail={fail} changed={changed} /> : null}
      <OrganizationMembers base={base} acting={organization.role} self={props.me.user.id} fail={fail} changed={changed} />
      {manage ? <AuditLog base={base} organization version={changes} /> : null}
    </>
  );
}

function OrganizationKeys(props: { base: string; fail: (reason: Error) => void; changed: () => void }) {
  const keys = useApiKeys(`${props.base}/keys`, props.changed, props.fail);
  return (
    <section class="card">
      <h2>Organization API keys</h2>
      <p class="muted">They reach the administration API (projects, their keys and members), never a project's data.</p>
      {keys.created ? <NewKeyPair keys={keys.created} secretTestId="organization-secret-key" /> : null}
      {keys.loaded.error ? <p class="error-box" role="alert">{keys.loaded.error}</p> : null}
      <ApiKeyTable
        keys={keys.loaded.data?.data ?? []}
        note
        rowTestId="organization-key"
        revoke={(key) => keys.revoke(key, `Revoke ${key.publicKey}? Clients using it will be refused.`)}
      />
      <button type="button" class="primary" onClick={keys.create}>
        Create organization API key
      </button>
    </section>
  );
}

function OrganizationMembers(props: { base: string; acting: string; self: string; fail: (reason: Error) => void; changed: () => void }) {
  const members = useLoad((signal) => api.get<{ data: Member[] }>(`${props.base}/members`, signal), [props.base]);
  const manage = props.acting === "owner" || props.acting === "admin";
  const assignable = assignableRoles(props.acting);
  // Only owners change or remove owners; nobody changes their own role here.
  const editable = (member: Member) => manage && member.userId !== props.self && (props.acting === "owner" || member.role !== "owner");
  const done = () => {
    members.reload(true);
    props.changed();
  };
  return (
    <section class="card">
      <h2>Members</h2>
      {members.error ? <p class="error-box" role="alert">{members.error}</p> : null}
      <table class="data compact">
        <TableHead columns={["Email", "Role", ""]} />
        <tbody>
          {(members.data?.data ?? []).map((member) => (
            <tr key={member.userId} data-testid="organization-member">
              <td>{member.email}</td>
              <td>
                {editable(member) ? (
                  <select
                    aria-label={`Role of ${member.email}`}
                    value={member.role}
                    onChange={(event) =>
                      api.put(`${props.base}/members/${encodeURIComponent(member.userId)}`, { role: event.currentTarget.value }).then(done, (reason: Error) => {
                        props.fail(reason);
                        members.reload(true);
                      })
                    }
                  >
                    {(member.role === "none" ? [...assignable, "none"] : assignable).map((name) => (
                      <option key={name} value={name}>{name}</option>
                    ))}
                  </select>
                ) : (
                  <span data-testid="member-role">{member.role}</span>
                )}
              </td>
              <td>
                {editable(member) ? (
                  <button
                    type="button"
                    class="danger"
                    onClick={() => {
                      if (!confirm(`Remove ${member.email} from the organization and its projects?`)) return;
                      api.del(`${props.base}/members/${encodeURIComponent(member.userId)}`).then(done, props.fail);
                    }}
                  >
                    Remove
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {manage ? (
        <InviteForm
          path={`${props.base}/members`}
          roles={assignable}
          emailLabel="Invite to organization"
          roleLabel="Organization invite role"
          invited={done}
          fail={props.fail}
        />
      ) : null}
    </section>
  );
}

function NewOrganization(props: { fail: (reason: Error) => void; created: (id: string) => void }) {
  const [name, setName] = useState("");
  return (
    <section class="card">
      <h2>New organization</h2>
      <form
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          api.post<{ id: string }>("/api/ui/organizations", { name }).then((organization) => {
            setName("");
            props.created(organization.id);
          }, props.fail);
        }}
      >
        <input required maxLength={200} placeholder="name" aria-label="New organization name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit">Create organization</button>
      </form>
    </section>
  );
}
