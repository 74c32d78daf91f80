/** A file's preview in a dialog: text (capped by the server), an image, the first rows of CSV or Parquet, or a notebook rendered as on the run pages. */
import { ErrorNote, Loading } from "./feedback.js";
import { Dialog } from "./dialog.js";
import { storageUrls, usePreview, type StorageEntry } from "../storage/storage-api.js";

export function FilePreview({ volume, entry, onClose }: { volume: string; entry: StorageEntry | undefined; onClose: () => void }) {
  const preview = usePreview(volume, entry?.path);
  const data = preview.data;
  return (
    <Dialog open={entry !== undefined} title={entry ? `Preview of ${entry.name}` : "Preview"} onClose={onClose} wide>
      {preview.isLoading && <Loading what="the preview" />}
      <ErrorNote error={preview.error} />
      {entry && data && (
        <div className="file-preview" data-kind={data.kind}>
          {data.kind === "text" && <pre className="preview-text">{data.text}</pre>}
          {data.kind === "image" && <img className="preview-image" src={storageUrls.file(volume, entry.path)} alt={entry.name} />}
          {(data.kind === "csv" || data.kind === "parquet") && (
            <div className="preview-table">
              <table className="table compact" aria-label={`First rows of ${entry.name}`}>
                <thead>
                  <tr>
                    {data.columns?.map((c) => (
                      <th key={c} scope="col">
                        {c}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {data.rows?.map((row, i) => (
                    <tr key={i}>
                      {row.map((cell, j) => (
                        <td key={j}>{cell === null || cell === undefined ? "" : typeof cell === "object" ? JSON.stringify(cell) : String(cell as string | number | boolean)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {data.kind === "notebook" && <iframe title={`Notebook ${entry.name}`} sandbox="" srcDoc={data.notebookHtml ?? ""} className="notebook-frame" />}
          {data.kind === "none" && <p className="muted">There is no preview for this kind of file.</p>}
          {data.truncated && <p className="muted small">Only the beginning is shown.</p>}
          <p>
            <a className="button" href={storageUrls.file(volume, entry.path, true)} download={entry.name}>
              Download
            </a>
          </p>
        </div>
      )}
    </Dialog>
  );
}
