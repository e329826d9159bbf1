"""The administration API with the official Python SDK 5.x API client and an organization
key (LANGFUSE_PUBLIC_KEY/SECRET_KEY here): `api.projects.create/update/delete`,
`api.projects.create_api_key/get_api_keys/delete_api_key` (the new key used with its own
client), `api.organizations.get_organization_projects/get_organization_api_keys`, the
organization and project memberships of the server's first user, and a project key
(COMPAT_PROJECT_PUBLIC_KEY/SECRET_KEY) refused on an organization route. Prints what it saw;
the test checks it and reads the rest back."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit_summary, env, error_of, start  # noqa: E402


def main():
    collector, run, _timeout, (public_key, secret_key, base_url) = start()
    from langfuse.api import LangfuseAPI

    api = LangfuseAPI(base_url=base_url, username=public_key, password=secret_key)
    summary = {"sdk": "python", "major": "v5", "run": run}
    name = f"compat-{run}-admin"

    created = api.projects.create(name=name, retention=0, metadata={"team": "compat"})
    summary["created"] = {
        "id": created.id,
        "name": created.name,
        "metadata": created.metadata,
        "organization": created.organization.id,
        "retention_days": created.retention_days,
    }
    summary["duplicate"] = error_of(lambda: api.projects.create(name=name, retention=0))
    listed = api.organizations.get_organization_projects()
    summary["listed"] = [project.name for project in listed.projects]
    updated = api.projects.update(created.id, name=f"{name}-renamed", retention=7)
    summary["updated"] = {"name": updated.name, "retention_days": updated.retention_days,
                          "metadata": updated.metadata}

    key = api.projects.create_api_key(created.id, note="compat")
    summary["key"] = {"id": key.id, "public_key": key.public_key, "note": key.note,
                      "display": key.display_secret_key, "secret_prefix": key.secret_key[:6]}
    keys = api.projects.get_api_keys(created.id)
    summary["keys"] = [k.public_key for k in keys.api_keys]
    own = LangfuseAPI(base_url=base_url, username=key.public_key, password=key.secret_key)
    summary["own_project"] = [p.id for p in own.projects.get().data]
    summary["organization_keys"] = [k.public_key for k in api.organizations.get_organization_api_keys().api_keys]

    members = api.organizations.get_organization_memberships().memberships
    summary["members"] = [{"email": m.email, "role": str(getattr(m.role, "value", m.role))} for m in members]
    owner = members[0].user_id
    summary["demote_last_owner"] = error_of(
        lambda: api.organizations.update_organization_membership(user_id=owner, role="MEMBER")
    )
    project_role = api.organizations.update_project_membership(created.id, user_id=owner, role="VIEWER")
    summary["project_role"] = str(getattr(project_role.role, "value", project_role.role))
    summary["project_members"] = [
        str(getattr(m.role, "value", m.role))
        for m in api.organizations.get_project_memberships(created.id).memberships
    ]
    removed = api.organizations.delete_project_membership(created.id, user_id=owner)
    summary["project_role_removed"] = removed.user_id
    summary["unknown_user"] = error_of(
        lambda: api.organizations.update_organization_membership(user_id="nobody", role="MEMBER")
    )

    summary["key_deleted"] = api.projects.delete_api_key(created.id, key.id).success
    summary["deleted_key_refused"] = error_of(lambda: own.projects.get())
    summary["deleted"] = api.projects.delete(created.id).success
    summary["deleted_listed"] = [p.id for p in api.organizations.get_organization_projects().projects]

    project_api = LangfuseAPI(
        base_url=base_url,
        username=env("COMPAT_PROJECT_PUBLIC_KEY"),
        password=env("COMPAT_PROJECT_SECRET_KEY"),
    )
    summary["project_key_refused"] = error_of(lambda: project_api.organizations.get_organization_projects())
    summary["organization_key_refused"] = error_of(lambda: api.projects.get())
    summary["sdk_log"] = collector.records
    emit_summary(summary)


if __name__ == "__main__":
    main()
