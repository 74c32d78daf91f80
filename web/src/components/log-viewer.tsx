/**
 * A task's log: the tail of the chosen try (last 256 KiB), then followed live over SSE while the
 * attempt runs. Keeps to the bottom unless the reader scrolled up.
 */
import { useEffect, useRef, useState } from "react";
import { api, seg } from "../api/client.js";
import type { LogChunk } from "../api/types.js";

const TAIL_BYTES = 256 * 1024;
const MAX_CHARS = 2 * 1024 * 1024;

export function LogViewer({ run, task, tries, active }: { run: string; task: string; tries: number; active: boolean }) {
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const tryNumber = chosen ?? tries;
  const [text, setText] = useState("");
  const [truncated, setTruncated] = useState(false);
  const [live, setLive] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    if (tryNumber < 1) {
      setText("");
      return;
    }
    let closed = false;
    let source: EventSource | undefined;
    setText("");
    setError(undefined);
    setTruncated(false);
    stick.current = true;
    const append = (more: string) => setText((current) => (current.length + more.length > MAX_CHARS ? (current + more).slice(-MAX_CHARS) : current + more));
    const base = `/api/runs/${seg(run)}/tasks/${seg(task)}/logs`;
    void api<LogChunk>("GET", `${base}?try=${tryNumber}&offset=-${TAIL_BYTES}`)
      .then((chunk) => {
        if (closed) return;
        setTruncated(chunk.size > TAIL_BYTES);
        append(chunk.text);
        if (chunk.done) return;
        source = new EventSource(`${base}/stream?try=${tryNumber}&offset=${chunk.next}`);
        setLive(true);
        source.addEventListener("log", (message) => append((JSON.parse((message as MessageEvent<string>).data) as { text: string }).text));
        source.addEventListener("end", () => {
          source?.close();
          setLive(false);
        });
        source.onerror = () => {
          if (source?.readyState === EventSource.CLOSED) setLive(false);
        };
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    return () => {
      closed = true;
      source?.close();
      setLive(false);
    };
    // `active` re-opens the stream when a try that had not started begins.
  }, [run, task, tryNumber, active]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [text]);

  return (
    <section className="log-viewer" aria-label="Log">
      <div className="log-toolbar">
        {tries > 1 && (
          <div className="tries" role="tablist" aria-label="Tries">
            {Array.from({ length: tries }, (_, i) => i + 1).map((n) => (
              <button key={n} type="button" role="tab" aria-selected={n === tryNumber} className={n === tryNumber ? "tab active" : "tab"} onClick={() => setChosen(n === tries ? undefined : n)}>
                try {n}
              </button>
            ))}
          </div>
        )}
        <span className="spacer" />
        {live ? (
          <span className="live" data-testid="log-live">
            <span className="pulse" aria-hidden="true" /> live
          </span>
        ) : null}
      </div>
      {error && <div className="error-note">{error}</div>}
      {truncated && <div className="muted small">Showing the last 256 KiB of the log.</div>}
      <pre
        ref={box}
        className="log"
        tabIndex={0}
        data-testid="log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {tryNumber < 1 ? <span className="muted">The task has not started yet.</span> : text || <span className="muted">{live ? "Waiting for output…" : "No output."}</span>}
      </pre>
    </section>
  );
}
