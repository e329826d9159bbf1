"""The administration API with an organization key: the official Python SDK 5.x API client
(`api.projects.*`, `api.organizations.*`) and the JS SDK's (`api.projects.*`,
`api.organizations.*`) create, list, update and delete projects, create, use, list and
delete project keys, read the organization's keys and members, set and remove a project
role; a project key is refused on an organization route and the organization key on a
project route; unknown roles and users get precise 4xx answers."""

from compat_helpers import scenario_fixture
from conftest import ORG_KEY, PROJECT_A, Check, make_client

SCENARIOS_USED = ["py_admin_v5", "js_admin"]

py_run = scenario_fixture("py_admin_v5")
js_run = scenario_fixture("js_admin")


def test_python_api_client_administers_projects(py_run):
    ck = Check("python v5 administration API")
    run = py_run
    name = f"compat-{run['run']}-admin"
    ck.eq(run["created"]["name"], name, "created name")
    ck.eq(run["created"]["metadata"], {"team": "compat"}, "created metadata")
    ck.eq(run["created"]["organization"], PROJECT_A["org_id"], "created in the key's organization")
    ck.eq(run["created"]["retention_days"], None, "retention 0 keeps everything")
    ck.eq((run["duplicate"] or {}).get("status"), 409, "a taken name")
    ck.true(name in run["listed"], "get_organization_projects lists it")
    ck.true(PROJECT_A["name"] in run["listed"], "and the organization's other projects")
    ck.eq(run["updated"], {"name": f"{name}-renamed", "retention_days": 7, "metadata": {"team": "compat"}},
          "update keeps the metadata")
    ck.eq(run["key"]["note"], "compat", "key note")
    ck.eq(run["key"]["id"], run["key"]["public_key"], "a key's id is its public key")
    ck.eq(run["key"]["secret_prefix"], "sk-lf-", "secret key shown once")
    ck.eq(run["keys"], [run["key"]["public_key"]], "get_api_keys")
    ck.eq(run["own_project"], [run["created"]["id"]], "the new key reads its project")
    ck.eq(run["organization_keys"], [ORG_KEY["pk"]], "get_organization_api_keys")
    ck.eq(run["members"][0]["role"], "OWNER", "the first user owns the organization")
    ck.eq((run["demote_last_owner"] or {}).get("status"), 409, "the last owner stays")
    ck.eq(run["project_role"], "VIEWER", "project role set")
    ck.eq(run["project_members"], ["VIEWER"], "get_project_memberships")
    ck.true(bool(run["project_role_removed"]), "project role removed")
    ck.eq((run["unknown_user"] or {}).get("status"), 404, "a membership for no user")
    ck.eq(run["key_deleted"], True, "delete_api_key")
    ck.eq((run["deleted_key_refused"] or {}).get("status"), 401, "a deleted key stops working")
    ck.eq(run["deleted"], True, "projects.delete")
    ck.true(run["created"]["id"] not in run["deleted_listed"], "a deleted project is not listed")
    ck.eq((run["project_key_refused"] or {}).get("status"), 403, "a project key on an organization route")
    ck.eq((run["organization_key_refused"] or {}).get("status"), 403, "an organization key on GET /projects")
    ck.eq(run["sdk_log"], [], "no SDK warnings")
    ck.done()


def test_js_api_client_administers_projects(js_run):
    ck = Check("js administration API")
    run = js_run
    name = f"compat-{run['run']}-admin-js"
    ck.eq(run["created"]["name"], name, "created name")
    ck.eq(run["created"]["metadata"], {"team": "js"}, "created metadata")
    ck.eq(run["duplicate"], 409, "a taken name")
    ck.true(name in run["listed"], "getOrganizationProjects lists it")
    ck.eq(run["updated"], {"name": f"{name}-renamed", "retention_days": 30}, "update")
    ck.eq(run["key"]["note"], "js", "key note")
    ck.eq(run["keys"], [run["key"]["public_key"]], "getApiKeys")
    ck.eq(run["own_project"], [run["created"]["id"]], "the new key reads its project")
    ck.true(ORG_KEY["pk"] in run["organization_keys"], "getOrganizationApiKeys")
    ck.eq(run["project_role"], "MEMBER", "updateProjectMembership")
    ck.eq(run["project_members"], ["MEMBER"], "getProjectMemberships")
    ck.true(bool(run["project_role_removed"]), "deleteProjectMembership")
    ck.eq(run["unknown_role"], 400, "an unknown role")
    ck.eq(run["key_deleted"], True, "deleteApiKey")
    ck.eq(run["deleted_key_refused"], 401, "a deleted key stops working")
    ck.eq(run["deleted"], True, "projects.delete")
    ck.true(run["created"]["id"] not in run["deleted_listed"], "a deleted project is not listed")
    ck.eq(run["project_key_refused"], 403, "a project key on an organization route")
    ck.eq(run["organization_key_refused"], 403, "an organization key on GET /projects")
    ck.done()


def test_bad_input_gets_precise_answers(server):
    with make_client(server, ORG_KEY["pk"], ORG_KEY["sk"]) as org:
        r = org.put("/api/public/organizations/memberships", json={"userId": "nobody", "role": "ROOT"})
        assert r.status_code == 400 and r.json()["message"].startswith("role: unknown role"), r.text
        r = org.put("/api/public/organizations/memberships", json={"userId": "nobody", "role": "VIEWER"})
        assert r.status_code == 404 and r.json()["message"].startswith("userId:"), r.text
        r = org.post("/api/public/projects", json={"name": "x"})
        assert r.status_code == 400 and r.json()["message"].startswith("name:"), r.text
        r = org.post("/api/public/projects", json={"name": "Valid name", "retention": 1})
        assert r.status_code == 400 and r.json()["message"].startswith("retention:"), r.text
        r = org.get("/api/public/traces")
        assert r.status_code == 403, r.text
        r = org.post("/api/public/ingestion", json={"batch": []})
        assert r.status_code == 403, r.text
    with make_client(server, PROJECT_A["pk"], PROJECT_A["sk"]) as project:
        r = project.get("/api/public/organizations/memberships")
        assert r.status_code == 403, r.text
        assert "Organization-scoped API key required" in r.json()["message"], r.text
