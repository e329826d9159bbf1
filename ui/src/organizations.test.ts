import { describe, expect, it } from "vitest";
import { assignableRoles, projectGroups } from "./organizations";

const project = (id: string, organizationId: string) => ({
  id,
  name: `Project ${id}`,
  role: "member",
  organizationId,
  organizationName: `Organization ${organizationId}`,
});

describe("projectGroups", () => {
  it("groups projects by organization in the order they come", () => {
    const groups = projectGroups([project("a", "o1"), project("b", "o2"), project("c", "o1")]);
    expect(groups.map((group) => [group.name, group.projects.map((p) => p.id)])).toEqual([
      ["Organization o1", ["a", "c"]],
      ["Organization o2", ["b"]],
    ]);
  });

  it("has no group without projects", () => {
    expect(projectGroups([])).toEqual([]);
  });
});

describe("assignableRoles", () => {
  it("lets owners alone give owner, and members and viewers nothing", () => {
    expect(assignableRoles("owner")).toEqual(["viewer", "member", "admin", "owner"]);
    expect(assignableRoles("admin")).toEqual(["viewer", "member", "admin"]);
    expect(assignableRoles("member")).toEqual([]);
    expect(assignableRoles("viewer")).toEqual([]);
  });
});
