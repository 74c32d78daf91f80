/**
 * Accounting of the local machine's capacity: how many attempts run at once, and the CPU, memory
 * and GPUs they reserved. GPUs are handed out by index (for CUDA_VISIBLE_DEVICES).
 */
import { LaunchError } from "../executor.js";
import { formatMemory, type TaskResources } from "../../pipelines/index.js";

export interface Capacity {
  parallelism: number;
  cpu: number;
  memory: number;
  gpus: number[];
  /** Why there are no GPUs, when there are none. */
  gpuNote: string;
}

export interface Reservation {
  cpu: number;
  memory: number;
  gpus: number[];
}

export class ResourceSlots {
  #running = 0;
  #cpu = 0;
  #memory = 0;
  readonly #freeGpus: number[];

  constructor(readonly capacity: Capacity) {
    this.#freeGpus = [...capacity.gpus];
  }

  /** Throws LaunchError when the request can never fit this machine. */
  check(resources: TaskResources): void {
    const c = this.capacity;
    if (resources.gpu > c.gpus.length) {
      throw new LaunchError(
        c.gpus.length === 0
          ? `the task asks for ${resources.gpu} GPU(s) but this machine has none (${c.gpuNote}); run it on a cluster with GPUs (cluster:) or set resources.gpu: 0`
          : `the task asks for ${resources.gpu} GPUs but this machine has ${c.gpus.length}`,
        { retryable: false },
      );
    }
    if (resources.cpu > c.cpu) throw new LaunchError(`the task asks for ${resources.cpu} CPUs but the local executor has ${c.cpu}`, { retryable: false });
    if (resources.memory > c.memory) throw new LaunchError(`the task asks for ${formatMemory(resources.memory)} of memory but the local executor has ${formatMemory(c.memory)}`, { retryable: false });
  }

  /** Whether the request fits what is free now. */
  fits(resources: TaskResources): boolean {
    const c = this.capacity;
    return (
      this.#running < c.parallelism &&
      this.#cpu + resources.cpu <= c.cpu + 1e-9 &&
      this.#memory + resources.memory <= c.memory &&
      resources.gpu <= this.#freeGpus.length
    );
  }

  /** Reserves capacity; call only after `fits`. */
  reserve(resources: TaskResources): Reservation {
    this.#running++;
    this.#cpu += resources.cpu;
    this.#memory += resources.memory;
    return { cpu: resources.cpu, memory: resources.memory, gpus: this.#freeGpus.splice(0, resources.gpu) };
  }

  /** Reserves what an adopted attempt held before a restart (its GPUs by index, when free). */
  readopt(reservation: Reservation): Reservation {
    this.#running++;
    this.#cpu += reservation.cpu;
    this.#memory += reservation.memory;
    const gpus = reservation.gpus.filter((g) => {
      const i = this.#freeGpus.indexOf(g);
      if (i >= 0) this.#freeGpus.splice(i, 1);
      return i >= 0;
    });
    return { ...reservation, gpus };
  }

  release(reservation: Reservation): void {
    this.#running--;
    this.#cpu -= reservation.cpu;
    this.#memory -= reservation.memory;
    this.#freeGpus.push(...reservation.gpus);
    this.#freeGpus.sort((a, b) => a - b);
  }

  get running(): number {
    return this.#running;
  }
}
