/**
 * Which pipelines, runs and tasks a principal may see or change. Things of other teams answer
 * exactly like things that do not exist (404), so a user learns nothing about other teams.
 */
import type { Principal, TeamRole } from "../auth/index.js";
import type { LoadedPipeline } from "../pipelines/index.js";
import type { Platform } from "../wiring/index.js";
import type { Run } from "../store/index.js";
import { notFound } from "./errors.js";

/** What the caller wants to do: read, or act at least at this role. */
export type Need = "read" | { role: TeamRole; action: string };

export class Access {
  constructor(private readonly platform: Platform) {}

  /** The team a pipeline belongs to: the loaded spec's, else the stored row's (removed pipelines keep their runs). */
  async teamOf(pipelineId: string): Promise<string | undefined> {
    const loaded = this.platform.registry.get(pipelineId);
    if (loaded) return loaded.spec.team;
    return (await this.platform.store.pipelines.get(pipelineId))?.team;
  }

  /** The team of a loaded pipeline without a database read (undefined when not loaded). */
  loadedTeamOf(pipelineId: string): string | undefined {
    return this.platform.registry.get(pipelineId)?.spec.team;
  }

  /** Ids of the pipelines (loaded or not) the principal may see; undefined means all of them. */
  async visiblePipelineIds(principal: Principal): Promise<string[] | undefined> {
    const teams = principal.visibleTeams();
    if (!teams) return undefined;
    const rows = await this.platform.store.pipelines.list();
    const ids = new Set<string>();
    for (const row of rows) {
      const team = this.loadedTeamOf(row.id) ?? row.team;
      if (teams.has(team)) ids.add(row.id);
    }
    for (const loaded of this.platform.registry.list()) if (teams.has(loaded.spec.team)) ids.add(loaded.spec.id);
    return [...ids];
  }

  /** Loaded pipelines the principal may see, by id. */
  visibleLoaded(principal: Principal): LoadedPipeline[] {
    return this.platform.registry.list().filter((p) => principal.canRead(p.spec.team));
  }

  #check(principal: Principal, team: string | undefined, need: Need, what: string, id: string): string {
    if (team === undefined || !principal.canRead(team)) throw notFound(what, id);
    if (need !== "read") principal.require(team, need.role, need.action);
    return team;
  }

  /** The pipeline's team when the principal may do `need` with it; 404 when it cannot see it, 403 when it sees but may not act. */
  async pipeline(principal: Principal, pipelineId: string, need: Need): Promise<string> {
    return this.#check(principal, await this.teamOf(pipelineId), need, "pipeline", pipelineId);
  }

  /** The run and its team when the principal may do `need` with it. */
  async run(principal: Principal, runId: string, need: Need): Promise<{ run: Run; team: string }> {
    const run = await this.platform.store.runs.get(runId);
    if (!run) throw notFound("run", runId);
    const team = this.#check(principal, await this.teamOf(run.pipelineId), need, "run", runId);
    return { run, team };
  }
}
