import { describe, expect, it } from "vitest";
import { PhaseMap } from "./phase-map.js";

describe("PhaseMap", () => {
  it("tells of a pod moving to another phase, not of the same phase set again", () => {
    const changes: string[] = [];
    const phases = new PhaseMap((leaseId, phase) => changes.push(`${leaseId}:${phase.phase}`));
    phases.set("7", { phase: "waiting-manifest" });
    phases.set("7", { phase: "provisioning", since: 1 });
    phases.set("7", { phase: "provisioning", since: 2 });
    phases.set("8", { phase: "failed", reason: "a", at: 1 });
    phases.set("8", { phase: "failed", reason: "b", at: 2 });
    phases.set("7", { phase: "running", since: 3 });
    expect(changes).toEqual(["7:waiting-manifest", "7:provisioning", "8:failed", "7:running"]);
    expect(phases.get("7")).toEqual({ phase: "running", since: 3 });
    expect(phases.get("8")).toEqual({ phase: "failed", reason: "b", at: 2 });
  });
});
