/** The uploads of the Files page: a progress bar per file, with pause and resume. */
import type { UploadItem } from "../storage/uploads.js";
import { formatBytes } from "../storage/storage-api.js";

export function UploadList({ items, onPause, onResume, onClear }: { items: UploadItem[]; onPause: (id: string) => void; onResume: (id: string) => void; onClear: () => void }) {
  if (items.length === 0) return null;
  return (
    <section className="panel uploads" aria-label="Uploads">
      <div className="panel-toolbar">
        <strong>Uploads</strong>
        <button type="button" className="link-button" onClick={onClear}>
          Clear finished
        </button>
      </div>
      <ul>
        {items.map((item) => (
          <li key={item.id} data-upload={item.name} data-state={item.state}>
            <span className="upload-name">{item.path}</span>
            <progress aria-label={`Upload of ${item.name}`} max={Math.max(item.size, 1)} value={item.state === "done" ? Math.max(item.size, 1) : item.sent} />
            <span className="muted small">
              {item.state === "done" ? "done" : item.state === "failed" ? `failed: ${item.error ?? ""}` : `${formatBytes(item.sent)} of ${formatBytes(item.size)}${item.state === "paused" ? " · paused" : ""}`}
            </span>
            {item.state === "uploading" && (
              <button type="button" className="link-button" onClick={() => onPause(item.id)}>
                Pause
              </button>
            )}
            {item.state === "paused" && (
              <button type="button" className="link-button" onClick={() => onResume(item.id)}>
                Resume
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
