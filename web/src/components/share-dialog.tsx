/** The Share dialog: a read-only link to a file or folder with an expiry and an optional password, and a button that copies it. */
import { useState, type FormEvent } from "react";
import { useAction } from "../api/hooks.js";
import { dateTime } from "../format.js";
import { storageCalls, storageKeys, type Share } from "../storage/storage-api.js";
import { Dialog } from "./dialog.js";
import { ErrorNote } from "./feedback.js";

const EXPIRIES = [
  { label: "1 hour", seconds: 3600 },
  { label: "24 hours", seconds: 86_400 },
  { label: "7 days", seconds: 7 * 86_400 },
  { label: "30 days", seconds: 30 * 86_400 },
] as const;

export function ShareDialog({ volume, path, onClose }: { volume: string; path: string | undefined; onClose: () => void }) {
  const [expiresIn, setExpiresIn] = useState<number>(86_400);
  const [password, setPassword] = useState("");
  const [made, setMade] = useState<Share | undefined>();
  const [copied, setCopied] = useState(false);
  const create = useAction((input: { volume: string; path: string; expiresIn: number; password?: string }) => storageCalls.share(input), () => [storageKeys.shares]);

  const close = () => {
    setMade(undefined);
    setPassword("");
    setCopied(false);
    create.reset();
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (path === undefined) return;
    create.mutate({ volume, path, expiresIn, ...(password ? { password } : {}) }, { onSuccess: ({ share }) => setMade(share) });
  };
  const copy = () => {
    if (!made) return;
    void navigator.clipboard?.writeText(made.url).then(() => setCopied(true), () => setCopied(false));
  };

  return (
    <Dialog open={path !== undefined} title={`Share ${volume}:${path ?? ""}`} onClose={close}>
      {!made ? (
        <form className="form" onSubmit={submit} aria-label="Share link">
          <p className="muted">Anyone with the link can download it, read-only, without a Capstan account, until it expires or you revoke it.</p>
          <div className="field">
            <label htmlFor="share-expiry">Expires after</label>
            <select id="share-expiry" value={expiresIn} onChange={(e) => setExpiresIn(Number(e.target.value))}>
              {EXPIRIES.map((x) => (
                <option key={x.seconds} value={x.seconds}>
                  {x.label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="share-password">Password (optional)</label>
            <input id="share-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
          <ErrorNote error={create.error} />
          <button type="submit" className="button primary" disabled={create.isPending}>
            Create link
          </button>
        </form>
      ) : (
        <div className="share-made">
          <label htmlFor="share-url">Link</label>
          <input id="share-url" readOnly value={made.url} onFocus={(e) => e.target.select()} />
          <p className="muted small">
            Expires {dateTime(made.expiresAt)}
            {made.passwordProtected ? "; asks for the password" : "; no password"}.
          </p>
          <button type="button" className="button primary" onClick={copy}>
            {copied ? "Copied" : "Copy link"}
          </button>
        </div>
      )}
    </Dialog>
  );
}
