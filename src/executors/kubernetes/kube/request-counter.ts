/**
 * Counts the requests Capstan sends to Kubernetes API servers, client-side, split into reads and
 * writes and by kind, so the benchmark can show what one attempt costs (and that no attempt polls).
 */

/** Kinds of requests: writes change objects; reads list, watch, get, or stream logs. */
export type RequestKind = "create" | "delete" | "patch" | "update" | "list" | "watch" | "get" | "log" | "events";

const WRITES: ReadonlySet<RequestKind> = new Set(["create", "delete", "patch", "update"]);

/** Totals by kind, reads and writes. */
export interface RequestCounts {
  reads: number;
  writes: number;
  byKind: Partial<Record<RequestKind, number>>;
}

/** Client-side request counts of an executor, in total and per cluster. */
export class RequestCounter {
  readonly #byKind = new Map<RequestKind, number>();
  readonly #clusters = new Map<string, RequestCounter>();
  readonly #parent: RequestCounter | undefined;

  constructor(parent?: RequestCounter) {
    this.#parent = parent;
  }

  /** The counter of one cluster: what it counts is added to this one's totals too. */
  forCluster(name: string): RequestCounter {
    let counter = this.#clusters.get(name);
    if (!counter) {
      counter = new RequestCounter(this);
      this.#clusters.set(name, counter);
    }
    return counter;
  }

  /** Counts per cluster and kind, for the metrics. */
  perCluster(): { cluster: string; kind: RequestKind; write: boolean; count: number }[] {
    return [...this.#clusters].flatMap(([cluster, counter]) => [...counter.#byKind].map(([kind, count]) => ({ cluster, kind, write: WRITES.has(kind), count })));
  }

  /** Records one request. */
  count(kind: RequestKind): void {
    this.#byKind.set(kind, (this.#byKind.get(kind) ?? 0) + 1);
    this.#parent?.count(kind);
  }

  /** Records a request of the generated API clients from its HTTP method and URL. */
  countHttp(method: string, url: string): void {
    const path = url.split("?")[0] ?? "";
    const query = url.includes("?") ? url.slice(url.indexOf("?")) : "";
    switch (method.toUpperCase()) {
      case "POST":
        this.count("create");
        return;
      case "DELETE":
        this.count("delete");
        return;
      case "PATCH":
        this.count("patch");
        return;
      case "PUT":
        this.count("update");
        return;
      default:
        if (/\/log$/.test(path)) this.count("log");
        else if (/\/events$/.test(path)) this.count("events");
        else if (/[?&]watch=(true|1)/.test(query)) this.count("watch");
        else if (/\/(pods|namespaces|nodes)$/.test(path)) this.count("list");
        else this.count("get");
    }
  }

  /** The counts so far. */
  snapshot(): RequestCounts {
    let reads = 0;
    let writes = 0;
    const byKind: Partial<Record<RequestKind, number>> = {};
    for (const [kind, n] of this.#byKind) {
      byKind[kind] = n;
      if (WRITES.has(kind)) writes += n;
      else reads += n;
    }
    return { reads, writes, byKind };
  }

  /** Starts counting again from zero. */
  reset(): void {
    this.#byKind.clear();
    for (const counter of this.#clusters.values()) counter.reset();
  }
}
