// The shell: who is signed in, the project switcher (projects grouped by organization) and
// navigation, and the page for the current path.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, setCsrfToken, type Me } from "./api";
import { Link, match, navigate, useLocation } from "./router";
import { saveTheme, type Theme } from "./theme";
import { SignIn } from "./pages/SignIn";
import { Traces } from "./pages/Traces";
import { Observations } from "./pages/Observations";
import { TracePage } from "./pages/Trace";
import { Sessions, SessionPage } from "./pages/Sessions";
import { Users } from "./pages/Users";
import { UserPage } from "./pages/User";
import { Scores } from "./pages/Scores";
import { Dashboard } from "./pages/Dashboard";
import { Settings } from "./pages/Settings";
import { Models } from "./pages/Models";
import { PromptPage, Prompts } from "./pages/Prompts";
import { Queues } from "./pages/Queues";
import { ComparePage, DatasetPage, Datasets } from "./pages/Datasets";
import { Review } from "./pages/Review";
import { Organization } from "./pages/Organization";
import { projectGroups } from "./organizations";
import { projectBase } from "./components/Table";

/** The sections linked from the top bar. */
const SECTIONS: [string, string][] = [
  ["traces", "Traces"],
  ["observations", "Observations"],
  ["sessions", "Sessions"],
  ["users", "Users"],
  ["scores", "Scores"],
  ["prompts", "Prompts"],
  ["datasets", "Datasets"],
  ["queues", "Queues"],
  ["dashboard", "Dashboard"],
];

/** The sections visited less often, in the top bar's "More" menu (so it fits one line). */
const MORE_SECTIONS: [string, string][] = [
  ["models", "Models"],
  ["settings", "Settings"],
  ["organization", "Organization"],
];

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [state, setState] = useState<"loading" | "signed-out" | "ready" | "error">("loading");
  const [error, setError] = useState("");
  const load = () => {
    api
      .get<Me>("/api/ui/me")
      .then((value) => {
        setCsrfToken(value.csrfToken);
        setMe(value);
        setState("ready");
      })
      .catch((reason: unknown) => {
        if (reason instanceof ApiError && reason.status === 401) setState("signed-out");
        else {
          setError(reason instanceof Error ? reason.message : String(reason));
          setState("error");
        }
      });
  };
  useEffect(load, []);
  if (state === "loading") return <div class="center muted">Loading…</div>;
  if (state === "error") return <div class="center error-box">{error}</div>;
  if (state === "signed-out" || !me) return <SignIn onSignedIn={load} />;
  return <Shell me={me} onSignedOut={() => setState("signed-out")} onChanged={load} />;
}

function Shell(props: { me: Me; onSignedOut: () => void; onChanged: () => void }) {
  const location = useLocation();
  const [theme, setTheme] = useState<Theme>((document.documentElement.dataset.theme as Theme) ?? "light");
  const projects = props.me.projects;
  const params = match("/project/:project/:section", location.path) ??
    match("/project/:project/:section/:id", location.path) ??
    match("/project/:project/:section/:id/:view", location.path) ?? { project: "", section: "" };
  const projectId = params.project;
  useEffect(() => {
    if (projects.length === 0) return;
    if (!projectId || !projects.some((project) => project.id === projectId)) {
      const section = location.path === "/settings" ? "settings" : "traces";
      navigate(`/project/${encodeURIComponent(projects[0].id)}/${section}${location.search.toString() ? `?${location.search}` : ""}`, true);
    }
  }, [projectId, projects.length]);
  if (projects.length === 0) {
    return <div class="center">You are not a member of any project yet. Ask a project owner to invite you.</div>;
  }
  const project = projects.find((candidate) => candidate.id === projectId);
  if (!project) return <div class="center muted">Loading…</div>;
  const base = projectBase(project.id);
  const signOut = () => {
    api.post("/api/ui/auth/sign-out").finally(() => {
      setCsrfToken("");
      props.onSignedOut();
    });
  };
  return (
    <div class="shell">
      <header class="topbar">
        <Link href={`${base}/traces`} class="brand">
          spindle
        </Link>
        <select
          aria-label="Project"
          value={project.id}
          onChange={(event) => navigate(`/project/${encodeURIComponent(event.currentTarget.value)}/${params.section || "traces"}`)}
        >
          {projectGroups(projects).map((group) => (
            <optgroup key={group.id} label={group.name}>
              {group.projects.map((candidate) => (
                <option key={candidate.id} value={candidate.id}>
                  {candidate.name}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        <nav aria-label="Sections">
          {SECTIONS.map(([section, label]) => (
            <Link key={section} href={`${base}/${section}`} class={params.section === section ? "active" : ""}>
              {label}
            </Link>
          ))}
          <MoreMenu base={base} section={params.section} />
        </nav>
        <span class="spacer" />
        <button
          type="button"
          class="ghost"
          aria-label="Toggle theme"
          onClick={() => {
            const next = theme === "dark" ? "light" : "dark";
            saveTheme(next);
            setTheme(next);
          }}
        >
          {theme === "dark" ? "☀ light" : "☾ dark"}
        </button>
        <span class="muted small">{props.me.user.email}</span>
        <button type="button" class="ghost" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Page projectId={project.id} role={project.role} path={location.path} search={location.search} me={props.me} onChanged={props.onChanged} />
      </main>
    </div>
  );
}

/** A disclosure of the less visited sections; it closes when one is chosen. */
function MoreMenu(props: { base: string; section: string }) {
  const menu = useRef<HTMLDetailsElement>(null);
  useEffect(() => menu.current?.removeAttribute("open"), [props.section]);
  const current = MORE_SECTIONS.find(([section]) => section === props.section);
  return (
    <details class="nav-more" ref={menu}>
      <summary class={current ? "active" : ""}>{current ? current[1] : "More"} ▾</summary>
      <div class="card" role="menu">
        {MORE_SECTIONS.map(([section, label]) => (
          <Link key={section} href={`${props.base}/${section}`} class={props.section === section ? "active" : ""}>
            {label}
          </Link>
        ))}
      </div>
    </details>
  );
}

function Page(props: { projectId: string; role: string; path: string; search: URLSearchParams; me: Me; onChanged: () => void }) {
  const { projectId, path } = props;
  let params = match("/project/:project/traces/:id", path);
  if (params) return <TracePage projectId={projectId} traceId={params.id} role={props.role} />;
  params = match("/project/:project/users/:id", path);
  if (params) return <UserPage projectId={projectId} userId={params.id} />;
  params = match("/project/:project/sessions/:id", path);
  if (params) return <SessionPage projectId={projectId} sessionId={params.id} role={props.role} />;
  params = match("/project/:project/queues/:id/review", path);
  if (params) return <Review projectId={projectId} queueId={params.id} />;
  params = match("/project/:project/prompts/:name", path);
  if (params) return <PromptPage projectId={projectId} name={params.name} search={props.search} />;
  params = match("/project/:project/datasets/:name", path);
  if (params) return <DatasetPage projectId={projectId} name={params.name} role={props.role} />;
  params = match("/project/:project/datasets/:name/compare", path);
  if (params) return <ComparePage projectId={projectId} name={params.name} runs={props.search.getAll("runs").filter(Boolean)} />;
  params = match("/project/:project/:section", path);
  switch (params?.section) {
    case "traces":
      return <Traces projectId={projectId} search={props.search} role={props.role} />;
    case "observations":
      return <Observations projectId={projectId} search={props.search} />;
    case "sessions":
      return <Sessions projectId={projectId} />;
    case "users":
      return <Users projectId={projectId} />;
    case "scores":
      return <Scores projectId={projectId} search={props.search} role={props.role} />;
    case "prompts":
      return <Prompts projectId={projectId} search={props.search} />;
    case "datasets":
      return <Datasets projectId={projectId} role={props.role} />;
    case "queues":
      return <Queues projectId={projectId} userId={props.me.user.id} />;
    case "dashboard":
      return <Dashboard projectId={projectId} />;
    case "models":
      return <Models projectId={projectId} role={props.role} />;
    case "settings":
      return <Settings projectId={projectId} role={props.role} me={props.me} welcome={props.search.get("welcome") === "1"} />;
    case "organization":
      return <Organization projectId={projectId} me={props.me} onChanged={props.onChanged} />;
    default:
      return <div class="center muted">Page not found.</div>;
  }
}
