// The administration API with the official JS SDK's API client (@langfuse/client 5.x) and an
// organization key (LANGFUSE_PUBLIC_KEY/SECRET_KEY here): projects created, listed, updated
// and deleted, a project key created, used, listed and deleted, the organization's keys and
// members, a project role set and removed, and a project key (COMPAT_PROJECT_PUBLIC_KEY/
// SECRET_KEY) refused on an organization route. Prints one line `COMPAT_SUMMARY {json}`.
import { LangfuseClient } from "@langfuse/client";
import { need, projectKeys, report } from "./harness.mjs";

const run = need("COMPAT_RUN_ID");
const keys = projectKeys();
const langfuse = new LangfuseClient(keys);
const api = langfuse.api;
const summary = { sdk: "javascript", major: "v5", run };
const name = `compat-${run}-admin-js`;

/** The status of what `fn` threw, or null when it succeeded. */
async function statusOf(fn) {
  try {
    await fn();
    return null;
  } catch (error) {
    return error.statusCode ?? String(error);
  }
}

const created = await api.projects.create({ name, retention: 0, metadata: { team: "js" } });
summary.created = { id: created.id, name: created.name, metadata: created.metadata };
summary.duplicate = await statusOf(() => api.projects.create({ name, retention: 0 }));
summary.listed = (await api.organizations.getOrganizationProjects()).projects.map((p) => p.name);
const updated = await api.projects.update(created.id, { name: `${name}-renamed`, retention: 30 });
summary.updated = { name: updated.name, retention_days: updated.retentionDays ?? null };

const key = await api.projects.createApiKey(created.id, { note: "js" });
summary.key = { id: key.id, public_key: key.publicKey, note: key.note ?? null };
summary.keys = (await api.projects.getApiKeys(created.id)).apiKeys.map((k) => k.publicKey);
const own = new LangfuseClient({ publicKey: key.publicKey, secretKey: key.secretKey, baseUrl: keys.baseUrl });
summary.own_project = (await own.api.projects.get()).data.map((p) => p.id);
summary.organization_keys = (await api.organizations.getOrganizationApiKeys()).apiKeys.map((k) => k.publicKey);

const members = (await api.organizations.getOrganizationMemberships()).memberships;
summary.members = members.map((m) => ({ email: m.email, role: m.role }));
const owner = members[0].userId;
const role = await api.organizations.updateProjectMembership(created.id, { userId: owner, role: "MEMBER" });
summary.project_role = role.role;
summary.project_members = (await api.organizations.getProjectMemberships(created.id)).memberships.map((m) => m.role);
summary.project_role_removed = (await api.organizations.deleteProjectMembership(created.id, { userId: owner })).userId;
summary.unknown_role = await statusOf(() =>
  api.organizations.updateOrganizationMembership({ userId: owner, role: "ROOT" }),
);

summary.key_deleted = (await api.projects.deleteApiKey(created.id, key.id)).success;
summary.deleted_key_refused = await statusOf(() => own.api.projects.get());
summary.deleted = (await api.projects.delete(created.id)).success;
summary.deleted_listed = (await api.organizations.getOrganizationProjects()).projects.map((p) => p.id);

const project = new LangfuseClient({
  publicKey: need("COMPAT_PROJECT_PUBLIC_KEY"),
  secretKey: need("COMPAT_PROJECT_SECRET_KEY"),
  baseUrl: keys.baseUrl,
});
summary.project_key_refused = await statusOf(() => project.api.organizations.getOrganizationProjects());
summary.organization_key_refused = await statusOf(() => api.projects.get());
report(summary);
