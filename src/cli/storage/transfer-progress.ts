/** Progress of file transfers on stderr: one bar per file, drawn only on a terminal and never with --json. */
import cliProgress from "cli-progress";

export interface TransferProgress {
  /** Starts the bar of one file; the function it returns takes the bytes done so far. */
  begin(name: string, total: number | undefined): (done: number) => void;
  end(): void;
}

const NONE: TransferProgress = { begin: () => () => undefined, end: () => undefined };

/** A bar of bytes, percent and speed; nothing when `enabled` is false or stderr is not a terminal. */
export function transferProgress(enabled: boolean): TransferProgress {
  if (!enabled || !process.stderr.isTTY) return NONE;
  let bar: cliProgress.SingleBar | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    begin(name, total) {
      stop();
      const started = Date.now();
      const current = new cliProgress.SingleBar(
        { format: "{name} |{bar}| {percentage}% {done} of {size} · {speed}", stream: process.stderr, hideCursor: true, barsize: 30, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      bar = current;
      const size = total ?? 0;
      current.start(Math.max(size, 1), 0, { name, done: formatBytes(0), size: total === undefined ? "?" : formatBytes(size), speed: "-" });
      return (done) => {
        const seconds = (Date.now() - started) / 1000;
        current.update(total === undefined ? 0 : done, { done: formatBytes(done), speed: seconds > 0 ? `${formatBytes(done / seconds)}/s` : "-" });
      };
    },
    end: stop,
  };
}

/** "1.5 MiB", "312 B". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
