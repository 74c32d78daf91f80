/** The task graph of a pipeline: upstream/downstream lookups, cycle detection and a topological order. */

/** Edges of a pipeline's tasks, built once per pipeline version. */
export class Dag {
  readonly #upstream = new Map<string, readonly string[]>();
  readonly #downstream = new Map<string, string[]>();
  readonly tasks: readonly string[];

  constructor(upstreamByTask: Record<string, readonly string[]>) {
    this.tasks = Object.keys(upstreamByTask);
    for (const id of this.tasks) {
      this.#upstream.set(id, upstreamByTask[id] ?? []);
      this.#downstream.set(id, []);
    }
    for (const id of this.tasks) {
      for (const up of this.#upstream.get(id) ?? []) this.#downstream.get(up)?.push(id);
    }
  }

  upstream(task: string): readonly string[] {
    return this.#upstream.get(task) ?? [];
  }

  downstream(task: string): readonly string[] {
    return this.#downstream.get(task) ?? [];
  }

  /** Tasks with no downstream: their states decide the run's state. */
  leaves(): string[] {
    return this.tasks.filter((t) => this.downstream(t).length === 0);
  }

  /** All tasks reachable downstream of `task` (not including it). */
  descendants(task: string): Set<string> {
    return this.#reach(task, (t) => this.downstream(t));
  }

  /** All tasks reachable upstream of `task` (not including it). */
  ancestors(task: string): Set<string> {
    return this.#reach(task, (t) => this.upstream(t));
  }

  #reach(start: string, next: (t: string) => readonly string[]): Set<string> {
    const seen = new Set<string>();
    const stack = [...next(start)];
    while (stack.length > 0) {
      const t = stack.pop() as string;
      if (seen.has(t)) continue;
      seen.add(t);
      stack.push(...next(t));
    }
    return seen;
  }

  /** A cycle as a list of task ids (first repeated at the end), or undefined when there is none. */
  findCycle(): string[] | undefined {
    const state = new Map<string, "visiting" | "done">();
    const path: string[] = [];
    const visit = (t: string): string[] | undefined => {
      state.set(t, "visiting");
      path.push(t);
      for (const d of this.downstream(t)) {
        const s = state.get(d);
        if (s === "visiting") return [...path.slice(path.indexOf(d)), d];
        if (s === undefined) {
          const found = visit(d);
          if (found) return found;
        }
      }
      path.pop();
      state.set(t, "done");
      return undefined;
    };
    for (const t of this.tasks) {
      if (!state.has(t)) {
        const found = visit(t);
        if (found) return found;
      }
    }
    return undefined;
  }

  /** Tasks ordered so that every task comes after its upstreams (Kahn's algorithm, stable). */
  topologicalOrder(): string[] {
    const indegree = new Map(this.tasks.map((t) => [t, this.upstream(t).length]));
    const ready = this.tasks.filter((t) => indegree.get(t) === 0);
    const order: string[] = [];
    while (ready.length > 0) {
      const t = ready.shift() as string;
      order.push(t);
      for (const d of this.downstream(t)) {
        const n = (indegree.get(d) ?? 0) - 1;
        indegree.set(d, n);
        if (n === 0) ready.push(d);
      }
    }
    return order;
  }
}
