// Organizations in the shell and on the organization page: the project switcher's groups and
// the roles a member may give.

import type { Me } from "./api";

export interface ProjectGroup {
  id: string;
  name: string;
  projects: Me["projects"];
}

/** The projects by organization, in the order each organization first appears. */
export function projectGroups(projects: Me["projects"]): ProjectGroup[] {
  const groups: ProjectGroup[] = [];
  for (const project of projects) {
    let group = groups.find((candidate) => candidate.id === project.organizationId);
    if (!group) {
      group = { id: project.organizationId, name: project.organizationName, projects: [] };
      groups.push(group);
    }
    group.projects.push(project);
  }
  return groups;
}

const ROLES = ["viewer", "member", "admin", "owner"];

/** The roles `acting` may give: owners every role, admins every one but owner, others none. */
export function assignableRoles(acting: string): string[] {
  if (acting === "owner") return ROLES;
  if (acting === "admin") return ROLES.filter((role) => role !== "owner");
  return [];
}
