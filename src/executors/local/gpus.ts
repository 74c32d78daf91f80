/** GPU discovery on the local machine through nvidia-smi; none when the tool is missing. */
import { execFile } from "node:child_process";

export interface LocalGpu {
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number;
}

export interface GpuDiscovery {
  gpus: LocalGpu[];
  /** Why no GPU was found, for error messages. */
  note: string;
}

/** Lists the GPUs nvidia-smi reports. */
export function discoverGpus(command = "nvidia-smi"): Promise<GpuDiscovery> {
  return new Promise((resolve) => {
    execFile(command, ["--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits"], { timeout: 10_000 }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        resolve({ gpus: [], note: code === "ENOENT" ? `${command} is not installed` : `${command} failed: ${error.message.split("\n")[0] ?? ""}` });
        return;
      }
      const gpus = stdout
        .split("\n")
        .map((line) => line.split(",").map((f) => f.trim()))
        .filter((f) => f.length >= 4 && f[0] !== "")
        .map(([index, uuid, name, memory]) => ({ index: Number(index), uuid: uuid ?? "", name: name ?? "", memoryMiB: Number(memory) }));
      resolve({ gpus, note: gpus.length === 0 ? `${command} reports no GPU` : `${gpus.length} GPU(s)` });
    });
  });
}
