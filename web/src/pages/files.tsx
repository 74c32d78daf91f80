/**
 * Files: one volume of the caller's teams at a time — a volume picker, breadcrumbs, the folder's
 * entries sorted by name, size or modified time, multi-select, drag-and-drop upload with progress
 * and resume (tus), download, folder zip, rename, move and delete with confirmation, new folder,
 * previews, the Share dialog, and the caller's share links.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, seg } from "../api/client.js";
import { useAction, useMe } from "../api/hooks.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { FilePreview } from "../components/file-preview.js";
import { PageHeader, type Crumb } from "../components/layout.js";
import { MyShares } from "../components/my-shares.js";
import { ShareDialog } from "../components/share-dialog.js";
import { UploadList } from "../components/upload-list.js";
import { dateTime } from "../format.js";
import { filesUrl, formatBytes, joinPath, storageCalls, storageKeys, storageUrls, useFolder, useVolumes, type StorageEntry } from "../storage/storage-api.js";
import { useUploads } from "../storage/uploads.js";
import "../storage/files.css";

type SortKey = "name" | "size" | "modified";

/** A sandbox as the Files page needs it: a home volume's first folder is a sandbox's name. */
interface SandboxSummary {
  id: string;
  name: string;
  owner: string;
  state: string;
}

/**
 * Opens `path` (inside the sandbox's home) in JupyterLab: the tab is opened on the click (no popup
 * blocker) and sent to the sandbox's one-time sign-in URL, which lands on /lab/tree/PATH.
 */
function openInSandbox(sandbox: SandboxSummary, path: string, onError: (error: unknown) => void): void {
  const tab = window.open("", "_blank");
  if (tab) tab.opener = null;
  const lab = `/lab/tree/${path.split("/").map(encodeURIComponent).join("/")}`;
  api<{ url: string }>("POST", `/api/sandboxes/${seg(sandbox.id)}/open?path=${encodeURIComponent(lab)}`).then(
    ({ url }) => {
      if (tab) tab.location.href = url;
      else window.location.href = url;
    },
    (error: unknown) => {
      tab?.close();
      onError(error);
    },
  );
}

/** The volume shown when the URL names none: the first team volume, else the first of any kind. */
function defaultVolume(volumes: { name: string; kind: string }[] | undefined): string | undefined {
  return (volumes?.find((v) => v.kind !== "home" && v.kind !== "runs") ?? volumes?.[0])?.name;
}

function sorted(entries: StorageEntry[], key: SortKey, ascending: boolean): StorageEntry[] {
  const sign = ascending ? 1 : -1;
  return [...entries].sort((a, b) => {
    if (a.type !== b.type) return a.type === "folder" ? -1 : 1;
    const by = key === "size" ? a.size - b.size : key === "modified" ? (a.modified ?? "").localeCompare(b.modified ?? "") : 0;
    return sign * (by !== 0 ? by : a.name.localeCompare(b.name));
  });
}

export function FilesPage() {
  const params = useParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const me = useMe().data;
  const volumes = useVolumes();
  const volumeName = params.volume ?? defaultVolume(volumes.data);
  const volume = volumes.data?.find((v) => v.name === volumeName);
  const folder = (params["*"] ?? "").replace(/\/+$/, "");
  const entries = useFolder(volume?.name, folder);

  const [sortKey, setSortKey] = useState<SortKey>("name");
  const [ascending, setAscending] = useState(true);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [preview, setPreview] = useState<StorageEntry | undefined>();
  const [sharing, setSharing] = useState<string | undefined>();
  const [search, setSearch] = useSearchParams();
  const [openError, setOpenError] = useState<unknown>(null);
  // A home volume's files can be opened in the caller's running sandbox of that name.
  const isHome = volume?.kind === "home";
  const sandboxes = useQuery({ queryKey: ["sandboxes"], queryFn: () => api<{ sandboxes: SandboxSummary[] }>("GET", "/api/sandboxes"), enabled: isHome });
  const wanted = search.get("preview");
  useEffect(() => {
    if (wanted === null || !entries.data) return;
    const entry = entries.data.find((e) => e.name === wanted && e.type === "file");
    if (entry) setPreview(entry);
    setSearch({}, { replace: true });
  }, [wanted, entries.data, setSearch]);
  const runningSandbox = (path: string) => {
    const name = path.split("/")[0];
    return isHome ? sandboxes.data?.sandboxes.find((x) => x.name === name && x.owner === volume?.owner && x.state === "running") : undefined;
  };
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(() => void client.invalidateQueries({ queryKey: storageKeys.folders(volume?.name ?? "") }), [client, volume?.name]);
  const uploads = useUploads(me?.csrf_token, refresh);
  const refreshKeys = () => [storageKeys.folders(volume?.name ?? "")];
  const mkdir = useAction((path: string) => storageCalls.mkdir(volume?.name ?? "", path), refreshKeys);
  const move = useAction(async (moves: { from: string; to: string }[]) => {
    for (const m of moves) await storageCalls.move(volume?.name ?? "", m.from, m.to);
  }, refreshKeys);
  const remove = useAction(async (doomed: StorageEntry[]) => {
    for (const e of doomed) await storageCalls.remove(volume?.name ?? "", e.path, e.type === "folder");
  }, refreshKeys);

  const list = useMemo(() => sorted(entries.data ?? [], sortKey, ascending), [entries.data, sortKey, ascending]);
  const chosen = list.filter((e) => selected.has(e.path));
  const writable = volume?.canWrite === true;

  if (volumes.isLoading) return <Loading what="volumes" />;
  if (volumes.data && volumes.data.length === 0)
    return (
      <>
        <PageHeader title="Files" />
        <p className="muted">None of your teams has a volume. Volumes are set in capstan.yaml under volumes: (see docs/storage.md).</p>
        <MyShares />
      </>
    );
  if (volumes.data && !volume) return <ErrorNote error={new Error(`There is no volume ${JSON.stringify(params.volume)} among your teams' volumes.`)} />;

  const crumbs: Crumb[] = [{ label: "Files", to: "/files" }];
  const segments = folder === "" ? [] : folder.split("/");
  if (volume) crumbs.push({ label: volume.name, ...(segments.length > 0 ? { to: filesUrl(volume.name) } : {}) });
  segments.slice(0, -1).forEach((s, i) => crumbs.push({ label: s, to: filesUrl(volume?.name ?? "", segments.slice(0, i + 1).join("/")) }));

  const toggle = (path: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });
  const sortBy = (key: SortKey) => {
    if (key === sortKey) setAscending(!ascending);
    else {
      setSortKey(key);
      setAscending(true);
    }
  };
  const sortMark = (key: SortKey) => (key === sortKey ? (ascending ? " ▲" : " ▼") : "");
  const ariaSort = (key: SortKey) => (key === sortKey ? (ascending ? "ascending" : "descending") : "none");

  const upload = (files: FileList | null) => {
    if (!volume || !files || files.length === 0) return;
    uploads.start(volume.name, folder, Array.from(files));
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (writable) upload(event.dataTransfer.files);
  };
  const newFolder = () => {
    const name = window.prompt("Name of the new folder:");
    if (name) mkdir.mutate(joinPath(folder, name));
  };
  const rename = (entry: StorageEntry) => {
    const name = window.prompt(`New name for ${entry.name}:`, entry.name);
    if (name && name !== entry.name) move.mutate([{ from: entry.path, to: joinPath(folder, name) }], { onSuccess: () => setSelected(new Set()) });
  };
  const moveSelected = () => {
    const target = window.prompt(`Move ${chosen.length} item(s) to which folder (a path from the volume's root, "" for the root)?`, folder);
    if (target === null) return;
    const to = target.replace(/^\/+|\/+$/g, "");
    move.mutate(
      chosen.map((e) => ({ from: e.path, to: joinPath(to, e.name) })),
      { onSuccess: () => setSelected(new Set()) },
    );
  };
  const deleteSelected = () => {
    const folders = chosen.filter((e) => e.type === "folder").length;
    const what = chosen.length === 1 ? (chosen[0]?.name ?? "") : `${chosen.length} items`;
    if (window.confirm(`Delete ${what}${folders > 0 ? " and everything in the folders" : ""}? This cannot be undone.`)) remove.mutate(chosen, { onSuccess: () => setSelected(new Set()) });
  };
  const downloadSelected = () => {
    for (const e of chosen) {
      const a = document.createElement("a");
      a.href = e.type === "folder" ? storageUrls.zip(volume?.name ?? "", e.path) : storageUrls.file(volume?.name ?? "", e.path, true);
      a.download = e.type === "folder" ? `${e.name}.zip` : e.name;
      a.click();
    }
  };

  return (
    <>
      <PageHeader
        title={volume ? `${volume.name}${folder ? `:${folder}` : ""}` : "Files"}
        crumbs={crumbs}
        actions={
          volume && (
            <>
              <label htmlFor="volume-picker" className="sr-only">
                Volume
              </label>
              <select id="volume-picker" value={volume.name} onChange={(e) => void navigate(filesUrl(e.target.value))}>
                {volumes.data?.map((v) => (
                  <option key={v.name} value={v.name}>
                    {v.name} ({v.kind === "home" ? "your sandboxes" : v.kind === "runs" ? "your teams' runs" : v.team}
                    {v.readOnly ? ", read-only" : ""})
                  </option>
                ))}
              </select>
            </>
          )
        }
      />
      {volume?.description && <p className="lead muted">{volume.description}</p>}
      <ErrorNote error={entries.error ?? mkdir.error ?? move.error ?? remove.error ?? openError} />
      {volume && (
        <div className="panel-toolbar files-toolbar" role="toolbar" aria-label="File actions">
          {writable && (
            <>
              <button type="button" className="button primary" onClick={() => fileInput.current?.click()}>
                Upload files
              </button>
              <input ref={fileInput} type="file" multiple hidden aria-label="Files to upload" onChange={(e) => (upload(e.target.files), (e.target.value = ""))} />
              <button type="button" className="button" onClick={newFolder}>
                New folder
              </button>
            </>
          )}
          <a className="button" href={storageUrls.zip(volume.name, folder)} download>
            Download folder as zip
          </a>
          <span className="muted small">{chosen.length > 0 ? `${chosen.length} selected:` : ""}</span>
          {chosen.length > 0 && (
            <button type="button" className="button" onClick={downloadSelected}>
              Download
            </button>
          )}
          {chosen.length === 1 && !isHome && volume?.kind !== "runs" && (
            <button type="button" className="button" onClick={() => setSharing(chosen[0]?.path)}>
              Share
            </button>
          )}
          {writable && chosen.length === 1 && chosen[0] && (
            <button type="button" className="button" onClick={() => chosen[0] && rename(chosen[0])}>
              Rename
            </button>
          )}
          {writable && chosen.length > 0 && (
            <>
              <button type="button" className="button" onClick={moveSelected}>
                Move
              </button>
              <button type="button" className="button danger" onClick={deleteSelected}>
                Delete
              </button>
            </>
          )}
        </div>
      )}
      <UploadList items={uploads.items} onPause={uploads.pause} onResume={uploads.resume} onClear={uploads.clearFinished} />
      <div
        className={`drop-zone${dragging ? " dragging" : ""}`}
        onDragOver={(e) => {
          if (!writable) return;
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        aria-label={writable ? "Files of this folder; drop files here to upload them" : "Files of this folder"}
      >
        {entries.isLoading && <Loading what="files" />}
        {entries.data && (
          <table className="table files" aria-label="Files">
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all"
                    checked={list.length > 0 && chosen.length === list.length}
                    onChange={(e) => setSelected(e.target.checked ? new Set(list.map((x) => x.path)) : new Set())}
                  />
                </th>
                <th scope="col" aria-sort={ariaSort("name")}>
                  <button type="button" className="link-button" onClick={() => sortBy("name")}>
                    Name{sortMark("name")}
                  </button>
                </th>
                <th scope="col" className="num" aria-sort={ariaSort("size")}>
                  <button type="button" className="link-button" onClick={() => sortBy("size")}>
                    Size{sortMark("size")}
                  </button>
                </th>
                <th scope="col" aria-sort={ariaSort("modified")}>
                  <button type="button" className="link-button" onClick={() => sortBy("modified")}>
                    Modified{sortMark("modified")}
                  </button>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => (
                <tr key={e.path} data-entry={e.name} data-type={e.type}>
                  <td>
                    <input type="checkbox" aria-label={`Select ${e.name}`} checked={selected.has(e.path)} onChange={() => toggle(e.path)} />
                  </td>
                  <td className="strong">
                    {e.type === "folder" ? (
                      <Link to={filesUrl(volume?.name ?? "", e.path)}>{e.name}/</Link>
                    ) : (
                      <button type="button" className="link-button" onClick={() => setPreview(e)}>
                        {e.name}
                      </button>
                    )}
                    {e.type === "file" &&
                      (() => {
                        const sandbox = runningSandbox(e.path);
                        return sandbox ? (
                          <button type="button" className="link-button small open-in-sandbox" onClick={() => openInSandbox(sandbox, e.path.split("/").slice(1).join("/"), setOpenError)}>
                            Open in my sandbox
                          </button>
                        ) : null;
                      })()}
                  </td>
                  <td className="num">{e.type === "file" ? formatBytes(e.size) : ""}</td>
                  <td>{dateTime(e.modified)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {entries.data?.length === 0 && <p className="muted">This folder is empty.{writable ? " Drop files here to upload them." : ""}</p>}
      </div>
      {volume && <FilePreview volume={volume.name} entry={preview} onClose={() => setPreview(undefined)} />}
      {volume && <ShareDialog volume={volume.name} path={sharing} onClose={() => setSharing(undefined)} />}
      <MyShares />
    </>
  );
}
