/** "My shares": the caller's share links with what they share, expiry, password, download counts and Revoke. */
import { useQuery } from "@tanstack/react-query";
import { useAction } from "../api/hooks.js";
import { dateTime } from "../format.js";
import { storageCalls, storageKeys } from "../storage/storage-api.js";
import { ErrorNote, Loading } from "./feedback.js";

export function MyShares() {
  const shares = useQuery({ queryKey: storageKeys.shares, queryFn: storageCalls.shares });
  const revoke = useAction((id: string) => storageCalls.unshare(id), () => [storageKeys.shares]);
  return (
    <section aria-label="My shares">
      <h2>My shares</h2>
      <ErrorNote error={shares.error ?? revoke.error} />
      {shares.isLoading && <Loading what="share links" />}
      {shares.data && shares.data.length === 0 && <p className="muted">You have shared nothing yet.</p>}
      {shares.data && shares.data.length > 0 && (
        <table className="table" aria-label="Share links">
          <thead>
            <tr>
              <th scope="col">What</th>
              <th scope="col">Expires</th>
              <th scope="col">Password</th>
              <th scope="col" className="num">
                Downloads
              </th>
              <th scope="col">Link</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {shares.data.map((s) => (
              <tr key={s.id} data-share={s.id}>
                <td className="strong">
                  {s.volume}:{s.path}
                  {s.type === "folder" ? "/" : ""}
                </td>
                <td>{s.expiresAt ? dateTime(s.expiresAt) : "never"}</td>
                <td>{s.passwordProtected ? "yes" : "no"}</td>
                <td className="num">{s.downloads}</td>
                <td>
                  <a href={s.url} target="_blank" rel="noreferrer">
                    {s.url}
                  </a>
                </td>
                <td className="actions">
                  <button
                    type="button"
                    className="link-button danger"
                    disabled={revoke.isPending}
                    onClick={() => {
                      if (window.confirm(`Revoke the link to ${s.volume}:${s.path}? It stops working at once.`)) revoke.mutate(s.id);
                    }}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
