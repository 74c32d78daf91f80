/** TanStack Query hooks for the API's resources; query keys are shared with the live updates in live.ts. */
import { useMutation, useQuery, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { api, seg, setCsrfToken } from "./client.js";
import type { Answer, Grid, Me, PipelineDetail, RunState, RunSummary, RunView, TaskDetail } from "./types.js";

export const keys = {
  me: ["me"] as const,
  pipelines: ["pipelines"] as const,
  pipeline: (id: string) => ["pipeline", id] as const,
  grid: (id: string, limit: number) => ["grid", id, limit] as const,
  gridsOf: (id: string) => ["grid", id] as const,
  run: (id: string) => ["run", id] as const,
  task: (run: string, task: string) => ["task", run, task] as const,
  tasksOf: (run: string) => ["task", run] as const,
  runs: ["runs"] as const,
  pools: ["pools"] as const,
  tokens: ["tokens"] as const,
  users: ["users"] as const,
  teams: ["teams"] as const,
  secrets: ["secrets"] as const,
};

export function useMe() {
  return useQuery({
    queryKey: keys.me,
    queryFn: async () => {
      const me = await api<Me>("GET", "/api/auth/me");
      setCsrfToken(me.csrf_token);
      return me;
    },
    retry: false,
    staleTime: 60_000,
  });
}

/** What the signed-in user may do in a team. */
export function canEdit(me: Me | undefined, team: string | undefined): boolean {
  if (!me || team === undefined) return false;
  return me.admin || me.teams.some((t) => t.team === team && (t.role === "editor" || t.role === "admin"));
}

/** Whether the signed-in user is an editor or admin of some team (who may see team secrets). */
export function editsAnyTeam(me: Me | undefined): boolean {
  return me !== undefined && (me.admin || me.teams.some((t) => t.role !== "viewer"));
}

/** Whether the signed-in user administers a team (sets its secrets, manages its members). */
export function isTeamAdmin(me: Me | undefined, team: string): boolean {
  return me !== undefined && (me.admin || me.teams.some((t) => t.team === team && t.role === "admin"));
}

export function usePipelines() {
  return useQuery({ queryKey: keys.pipelines, queryFn: () => api<Answer<"/api/pipelines", "get">>("GET", "/api/pipelines") });
}

export function usePipeline(id: string | undefined) {
  return useQuery({ queryKey: keys.pipeline(id ?? ""), queryFn: () => api<PipelineDetail>("GET", `/api/pipelines/${seg(id ?? "")}`), enabled: id !== undefined && id !== "" });
}

export function useGrid(id: string, limit: number) {
  return useQuery({ queryKey: keys.grid(id, limit), queryFn: () => api<Grid>("GET", `/api/pipelines/${seg(id)}/grid?limit=${limit}`), placeholderData: (previous) => previous });
}

export function useRun(id: string | undefined) {
  return useQuery({ queryKey: keys.run(id ?? ""), queryFn: () => api<RunView>("GET", `/api/runs/${seg(id ?? "")}`), enabled: id !== undefined && id !== "" });
}

export function useTask(run: string, task: string) {
  return useQuery({ queryKey: keys.task(run, task), queryFn: () => api<TaskDetail>("GET", `/api/runs/${seg(run)}/tasks/${seg(task)}`) });
}

export interface RunFilter {
  pipeline?: string;
  state?: RunState;
  limit: number;
  offset: number;
}

export function useRuns(filter: RunFilter) {
  const query = new URLSearchParams({ view: "summary", limit: String(filter.limit), offset: String(filter.offset) });
  if (filter.pipeline) query.set("pipeline", filter.pipeline);
  if (filter.state) query.set("state", filter.state);
  // view=summary: every item is a RunSummary.
  return useQuery({ queryKey: [...keys.runs, filter], queryFn: () => api<Omit<Answer<"/api/runs", "get">, "runs"> & { runs: RunSummary[] }>("GET", `/api/runs?${query.toString()}`), placeholderData: (previous) => previous });
}

export function usePools() {
  return useQuery({ queryKey: keys.pools, queryFn: async () => (await api<Answer<"/api/pools", "get">>("GET", "/api/pools")).pools });
}

export function useSecrets(enabled: boolean) {
  return useQuery({ queryKey: keys.secrets, queryFn: async () => (await api<Answer<"/api/secrets", "get">>("GET", "/api/secrets")).secrets, enabled });
}

export function useTokens() {
  return useQuery({ queryKey: keys.tokens, queryFn: async () => (await api<Answer<"/api/tokens", "get">>("GET", "/api/tokens")).tokens });
}

export function useUsers(enabled: boolean) {
  return useQuery({ queryKey: keys.users, queryFn: async () => (await api<Answer<"/api/users", "get">>("GET", "/api/users")).users, enabled });
}

export function useTeams() {
  return useQuery({ queryKey: keys.teams, queryFn: async () => (await api<Answer<"/api/teams", "get">>("GET", "/api/teams")).teams });
}

/** A mutation that refreshes the given queries when it succeeds. */
export function useAction<TInput, TResult>(run: (input: TInput) => Promise<TResult>, refresh: (input: TInput) => QueryKey[]) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: async (_result, input) => {
      await Promise.all(refresh(input).map((queryKey) => client.invalidateQueries({ queryKey })));
    },
  });
}
