/**
 * Live updates: one EventSource on /api/events (filtered by pipeline or run) whose changes patch the
 * cached grid and run views at once (tasks turn green without a reload), then refresh the affected
 * queries at most a few times a second for what events do not carry (tries, times).
 */
import { useQueryClient, type QueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { keys } from "./hooks.js";
import type { ChangeEvent, Grid, RunState, RunView } from "./types.js";

const REFRESH_MS = 400;

function scheduler(client: QueryClient) {
  const pending = new Map<string, QueryKey>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    refresh(key: QueryKey) {
      pending.set(JSON.stringify(key), key);
      timer ??= setTimeout(() => {
        timer = undefined;
        const due = [...pending.values()];
        pending.clear();
        for (const queryKey of due) void client.invalidateQueries({ queryKey });
      }, REFRESH_MS);
    },
    stop() {
      if (timer) clearTimeout(timer);
    },
  };
}

/** Applies one change to the cached views it touches. */
function patch(client: QueryClient, change: ChangeEvent, refresh: (key: QueryKey) => void): void {
  let gridHasRun = false;
  client.setQueriesData<Grid>({ queryKey: keys.gridsOf(change.pipeline) }, (grid) => {
    if (!grid) return grid;
    const index = grid.runs.findIndex((r) => r.id === change.run);
    if (index < 0) return grid;
    gridHasRun = true;
    const runs = [...grid.runs];
    const run = runs[index];
    if (!run) return grid;
    if (change.kind === "run") runs[index] = { ...run, state: change.state as RunState };
    else {
      const column = grid.tasks.findIndex((t) => t.id === change.task);
      if (column < 0) return grid;
      const states = [...run.states];
      states[column] = change.state;
      runs[index] = { ...run, states };
    }
    return { ...grid, runs };
  });
  if (!gridHasRun) refresh(keys.gridsOf(change.pipeline));

  client.setQueryData<RunView>(keys.run(change.run), (run) => {
    if (!run) return run;
    if (change.kind === "run") return { ...run, state: change.state as RunState };
    const task = change.task ? run.tasks[change.task] : undefined;
    if (!task || !change.task) return run;
    return { ...run, tasks: { ...run.tasks, [change.task]: { ...task, state: change.state } } };
  });
  refresh(keys.run(change.run));
  if (change.kind === "task" && change.task) refresh(keys.task(change.run, change.task));
  refresh(keys.gridsOf(change.pipeline));
  if (change.kind === "run") {
    refresh(keys.pipelines);
    refresh(keys.runs);
  }
}

/** Keeps the cached views of a pipeline (or one run, or everything visible) live while mounted. */
export function useLiveUpdates(filter: { pipeline?: string; run?: string }, onChange?: (change: ChangeEvent) => void): void {
  const client = useQueryClient();
  const handler = useRef(onChange);
  handler.current = onChange;
  const query = new URLSearchParams();
  if (filter.pipeline) query.set("pipeline", filter.pipeline);
  if (filter.run) query.set("run", filter.run);
  const url = `/api/events${query.size > 0 ? `?${query.toString()}` : ""}`;

  useEffect(() => {
    const refresher = scheduler(client);
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let opened = false;
    const open = () => {
      source = new EventSource(url);
      source.addEventListener("change", (message) => {
        const change = JSON.parse((message as MessageEvent<string>).data) as ChangeEvent;
        patch(client, change, (key) => refresher.refresh(key));
        handler.current?.(change);
      });
      // After a reconnect (not the first open), refetch what may have changed while the stream was down.
      source.addEventListener("ready", () => {
        if (!opened) {
          opened = true;
          return;
        }
        if (filter.run) refresher.refresh(keys.run(filter.run));
        if (filter.pipeline) refresher.refresh(keys.gridsOf(filter.pipeline));
      });
      source.onerror = () => {
        if (source?.readyState !== EventSource.CLOSED || stopped) return;
        // The server refused the stream (signed out, or the credential ended): check the session, then try again.
        void client.invalidateQueries({ queryKey: keys.me });
        retry = setTimeout(open, 3000);
      };
    };
    open();
    return () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      source?.close();
      refresher.stop();
    };
  }, [client, url, filter.pipeline, filter.run]);
}
