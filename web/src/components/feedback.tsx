/** Loading, empty and error states, and API errors shown in place. */
import { ApiError } from "../api/client.js";

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : JSON.stringify(error);
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div className="error-note" role="alert">
      {code && <strong>{code.replace(/_/g, " ")}: </strong>}
      {message}
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="empty">{children}</div>;
}
