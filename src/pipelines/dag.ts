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

  /**
   * Whether `ancestor` is reachable upstream of `task`: a direct upstream answers at once, else a
   * search upwards that stops where it finds it.
   */
  isAncestor(ancestor: string, task: string): boolean {
    const direct = this.upstream(task);
    if (direct.includes(ancestor)) return true;
    const seen = new Set<string>();
    const stack = [...direct];
    while (stack.length > 0) {
      const t = stack.pop() as string;
      if (t === ancestor) return true;
      if (seen.has(t)) continue;
      seen.add(t);
      for (const up of this.upstream(t)) if (!seen.has(up)) stack.push(up);
    }
    return false;
  }

  /**
   * A cycle as a list of task ids (first repeated at the end), or undefined when there is none.
   * Iterative, so a chain of any length cannot overflow the stack.
   */
  findCycle(): string[] | undefined {
    const state = new Map<string, "visiting" | "done">();
    /** The tasks on the current path, with the next downstream index to visit of each. */
    const path: string[] = [];
    const nextChild: number[] = [];
    const position = new Map<string, number>();
    for (const start of this.tasks) {
      if (state.has(start)) continue;
      state.set(start, "visiting");
      position.set(start, 0);
      path.push(start);
      nextChild.push(0);
      while (path.length > 0) {
        const top = path.length - 1;
        const t = path[top] as string;
        const children = this.downstream(t);
        const i = nextChild[top] as number;
        if (i < children.length) {
          nextChild[top] = i + 1;
          const d = children[i] as string;
          const s = state.get(d);
          if (s === "visiting") return [...path.slice(position.get(d) ?? 0), d];
          if (s === undefined) {
            state.set(d, "visiting");
            position.set(d, path.length);
            path.push(d);
            nextChild.push(0);
          }
          continue;
        }
        path.pop();
        nextChild.pop();
        position.delete(t);
        state.set(t, "done");
      }
    }
    return undefined;
  }

  /** Tasks ordered so that every task comes after its upstreams (Kahn's algorithm, stable). */
  topologicalOrder(): string[] {
    const indegree = new Map(this.tasks.map((t) => [t, this.upstream(t).length]));
    const order = this.tasks.filter((t) => indegree.get(t) === 0);
    // `order` is also the queue: tasks are appended as they become ready and read from `head`.
    for (let head = 0; head < order.length; head++) {
      for (const d of this.downstream(order[head] as string)) {
        const n = (indegree.get(d) ?? 0) - 1;
        indegree.set(d, n);
        if (n === 0) order.push(d);
      }
    }
    return order;
  }
}
