/**
 * Uploads from the browser with the tus protocol (tus-js-client): each file goes in chunks and, if
 * the connection drops or the page is reloaded, goes on from what the server holds (the upload's URL
 * is kept in localStorage under the file's fingerprint). Where the server has no tus endpoint, the
 * file goes in one PUT with progress.
 */
import { useCallback, useRef, useState } from "react";
import { Upload } from "tus-js-client";
import { storageUrls } from "./storage-api.js";

export interface UploadItem {
  id: string;
  name: string;
  /** Volume-relative target path. */
  path: string;
  size: number;
  sent: number;
  state: "uploading" | "paused" | "done" | "failed";
  error?: string;
}

const CHUNK_BYTES = 8 * 1024 * 1024;

interface Running {
  pause(): void;
  resume(): void;
}

/** The uploads of the page, with start, pause and resume. `onDone` runs after each finished file. */
export function useUploads(csrfToken: string | undefined, onDone: () => void) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const running = useRef(new Map<string, Running>());
  const update = useCallback((id: string, change: Partial<UploadItem>) => setItems((list) => list.map((item) => (item.id === id ? { ...item, ...change } : item))), []);

  const start = useCallback(
    (volume: string, folder: string, files: readonly File[]) => {
      for (const file of files) {
        const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
        const path = folder === "" ? file.name : `${folder}/${file.name}`;
        setItems((list) => [...list, { id, name: file.name, path, size: file.size, sent: 0, state: "uploading" }]);
        const headers: Record<string, string> = csrfToken ? { "x-csrf-token": csrfToken } : {};
        const finished = () => {
          running.current.delete(id);
          update(id, { sent: file.size, state: "done" });
          onDone();
        };
        const failed = (message: string) => {
          running.current.delete(id);
          update(id, { state: "failed", error: message });
        };
        const upload = new Upload(file, {
          endpoint: new URL(storageUrls.uploads(volume), window.location.origin).toString(),
          chunkSize: CHUNK_BYTES,
          retryDelays: [0, 1000, 3000, 5000, 10000],
          metadata: { path, filename: file.name },
          headers,
          storeFingerprintForResuming: true,
          removeFingerprintOnSuccess: true,
          fingerprint: (f: File) => Promise.resolve(["capstan", volume, path, f.size, f.lastModified].join(":")),
          onProgress: (sent) => update(id, { sent }),
          onSuccess: finished,
          onError: (error) => {
            const status = (error as { originalResponse?: { getStatus(): number } | null }).originalResponse?.getStatus();
            if (status === 404 || status === 405) void putWhole(volume, path, file, headers, (sent) => update(id, { sent })).then(finished, (e: unknown) => failed(e instanceof Error ? e.message : String(e)));
            else failed(responseMessage(error));
          },
        });
        running.current.set(id, { pause: () => void upload.abort(), resume: () => upload.start() });
        // Goes on from an upload of the same file to the same place that did not finish (a dropped connection, a reload).
        void upload.findPreviousUploads().then((previous) => {
          const last = previous[0];
          if (last) upload.resumeFromPreviousUpload(last);
          upload.start();
        });
      }
    },
    [csrfToken, onDone, update],
  );

  const pause = useCallback((id: string) => {
    running.current.get(id)?.pause();
    update(id, { state: "paused" });
  }, [update]);
  const resume = useCallback((id: string) => {
    running.current.get(id)?.resume();
    update(id, { state: "uploading" });
  }, [update]);
  const clearFinished = useCallback(() => setItems((list) => list.filter((item) => item.state === "uploading" || item.state === "paused")), []);
  return { items, start, pause, resume, clearFinished };
}

/** The server's message out of a tus error (its JSON body), else the error's own. */
function responseMessage(error: Error): string {
  const body = (error as { originalResponse?: { getBody(): string } | null }).originalResponse?.getBody();
  try {
    return (JSON.parse(body ?? "") as { error?: { message?: string } }).error?.message ?? error.message;
  } catch {
    // The tus endpoint answers refusals in plain text.
    return body?.trim() || error.message;
  }
}

/** One PUT of the whole file, with upload progress (XMLHttpRequest reports it; fetch does not). */
function putWhole(volume: string, path: string, file: File, headers: Record<string, string>, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", storageUrls.put(volume, path, false));
    request.setRequestHeader("content-type", "application/octet-stream");
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else {
        let message = `HTTP ${request.status}`;
        try {
          message = (JSON.parse(request.responseText) as { error?: { message?: string } }).error?.message ?? message;
        } catch {
          // not JSON
        }
        reject(new Error(message));
      }
    };
    request.onerror = () => reject(new Error("the connection to Capstan broke"));
    request.send(file);
  });
}
