/**
 * The public page of a share link, /s/:id: it works without a Capstan session. It asks for the
 * password when the link has one (the server then sets a cookie for this link only), offers the
 * file's download, or lists the shared folder with its subfolders, downloads and a zip.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { api, ApiError, seg } from "../api/client.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { dateTime } from "../format.js";
import { formatBytes, joinPath, type EntryPage } from "../storage/storage-api.js";
import "../storage/files.css";

interface PublicShare {
  name: string;
  type: "file" | "folder";
  size?: number;
  expiresAt: string | null;
  passwordRequired: boolean;
  unlocked: boolean;
}

const base = (id: string) => `/api/public/shares/${seg(id)}`;

export function SharePage() {
  const id = useParams().id ?? "";
  const client = useQueryClient();
  const share = useQuery({ queryKey: ["public-share", id], queryFn: () => api<PublicShare>("GET", base(id)), retry: false });
  const [password, setPassword] = useState("");
  const [unlockError, setUnlockError] = useState<unknown>(null);
  const [path, setPath] = useState("");
  const locked = share.data ? share.data.passwordRequired && !share.data.unlocked : true;
  const listing = useQuery({
    queryKey: ["public-share-entries", id, path],
    enabled: share.data?.type === "folder" && !locked,
    queryFn: () => api<EntryPage>("GET", `${base(id)}/entries?${new URLSearchParams({ path }).toString()}`),
  });

  const unlock = (event: FormEvent) => {
    event.preventDefault();
    setUnlockError(null);
    api("POST", `${base(id)}/unlock`, { password }).then(
      () => void client.invalidateQueries({ queryKey: ["public-share", id] }),
      (error: unknown) => setUnlockError(error instanceof ApiError && (error.status === 401 || error.status === 403) ? new Error("That password is not right.") : error),
    );
  };

  const gone = share.error instanceof ApiError && (share.error.status === 404 || share.error.status === 410);
  const fileUrl = (p: string) => `${base(id)}/files?${new URLSearchParams({ path: p }).toString()}`;
  const zipUrl = (p: string) => `${base(id)}/zip?${new URLSearchParams({ path: p }).toString()}`;
  const segments = path === "" ? [] : path.split("/");

  return (
    <main className="public-share" id="main">
      <header className="public-head">
        <strong>Capstan</strong> <span className="muted">shared files</span>
      </header>
      {share.isLoading && <Loading what="the shared files" />}
      {gone && <ErrorNote error={new Error("This link does not work: it has expired, was revoked, or never existed.")} />}
      {!gone && <ErrorNote error={share.error} />}
      {share.data && (
        <section className="panel" aria-label="Shared">
          <h1>{share.data.name}</h1>
          <p className="muted small">
            {share.data.type === "folder" ? "A folder" : `A file${share.data.size !== undefined ? ` of ${formatBytes(share.data.size)}` : ""}`}
            {share.data.expiresAt ? `, shared until ${dateTime(share.data.expiresAt)}` : ""}.
          </p>
          {locked ? (
            <form className="form" onSubmit={unlock} aria-label="Password">
              <div className="field">
                <label htmlFor="share-password">Password</label>
                <input id="share-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
              </div>
              <ErrorNote error={unlockError} />
              <button type="submit" className="button primary">
                Open
              </button>
            </form>
          ) : share.data.type === "file" ? (
            <a className="button primary" href={fileUrl("")} download={share.data.name}>
              Download {share.data.name}
            </a>
          ) : (
            <>
              <nav aria-label="Folder" className="crumbs">
                <button type="button" className="link-button" onClick={() => setPath("")}>
                  {share.data.name}
                </button>
                {segments.map((s, i) => (
                  <span key={i}>
                    {" / "}
                    <button type="button" className="link-button" onClick={() => setPath(segments.slice(0, i + 1).join("/"))}>
                      {s}
                    </button>
                  </span>
                ))}
              </nav>
              <p>
                <a className="button" href={zipUrl(path)} download>
                  Download all as zip
                </a>
              </p>
              <ErrorNote error={listing.error} />
              {listing.data && (
                <table className="table" aria-label="Shared files">
                  <tbody>
                    {listing.data.entries.map((e) => (
                      <tr key={e.name} data-entry={e.name}>
                        <td className="strong">
                          {e.type === "folder" ? (
                            <button type="button" className="link-button" onClick={() => setPath(joinPath(path, e.name))}>
                              {e.name}/
                            </button>
                          ) : (
                            <a href={fileUrl(joinPath(path, e.name))} download={e.name}>
                              {e.name}
                            </a>
                          )}
                        </td>
                        <td className="num">{e.type === "file" ? formatBytes(e.size) : ""}</td>
                        <td>{dateTime(e.modified)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          )}
        </section>
      )}
    </main>
  );
}
