/**
 * Renders an executed notebook (nbformat 4) as a standalone HTML page: markdown cells through
 * markdown-it, code with its outputs (streams, text, images, HTML, errors with ANSI colours).
 * Notebook HTML is included as it is, so the page must only ever be served with
 * `Content-Security-Policy: sandbox` (no scripts, an opaque origin): see NOTEBOOK_CSP.
 */
import { AnsiUp } from "ansi_up";
import MarkdownIt from "markdown-it";
import { SecretMask } from "../../secrets/index.js";
import { maskNotebookValue } from "./notebook-file.js";

/** The policy the rendered page is served with: a sandbox without scripts or same-origin, nothing loaded from anywhere. */
export const NOTEBOOK_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

const markdown = new MarkdownIt({ html: true, linkify: true });

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

/** nbformat stores multiline strings as a string or a list of lines. */
function joinText(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : "")).join("");
  return typeof value === "string" ? value : "";
}

function ansi(text: string): string {
  const converter = new AnsiUp();
  converter.escape_html = true;
  return converter.ansi_to_html(text);
}

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif"] as const;

function renderData(data: Record<string, unknown>): string {
  if (typeof data["text/html"] === "string" || Array.isArray(data["text/html"])) return `<div class="html">${joinText(data["text/html"])}</div>`;
  for (const type of IMAGE_TYPES) {
    const value = joinText(data[type]).replace(/\s+/g, "");
    if (value && /^[A-Za-z0-9+/=]+$/.test(value)) return `<img alt="" src="data:${type};base64,${value}">`;
  }
  if (data["image/svg+xml"] !== undefined) {
    return `<img alt="" src="data:image/svg+xml;base64,${Buffer.from(joinText(data["image/svg+xml"])).toString("base64")}">`;
  }
  if (data["text/markdown"] !== undefined) return `<div class="md">${markdown.render(joinText(data["text/markdown"]))}</div>`;
  if (data["application/json"] !== undefined) return `<pre>${escapeHtml(JSON.stringify(data["application/json"], null, 2))}</pre>`;
  if (data["text/latex"] !== undefined) return `<pre>${escapeHtml(joinText(data["text/latex"]))}</pre>`;
  if (data["text/plain"] !== undefined) return `<pre>${ansi(joinText(data["text/plain"]))}</pre>`;
  return "";
}

function renderOutput(output: Record<string, unknown>): string {
  switch (output.output_type) {
    case "stream":
      return `<pre class="stream ${output.name === "stderr" ? "stderr" : "stdout"}">${ansi(joinText(output.text))}</pre>`;
    case "display_data":
    case "execute_result":
      return typeof output.data === "object" && output.data !== null ? renderData(output.data as Record<string, unknown>) : "";
    case "error": {
      const traceback = Array.isArray(output.traceback) ? output.traceback.map((l) => (typeof l === "string" ? l : "")).join("\n") : `${String(output.ename)}: ${String(output.evalue)}`;
      return `<pre class="error">${ansi(traceback)}</pre>`;
    }
    default:
      return "";
  }
}

interface Cell {
  cell_type?: unknown;
  source?: unknown;
  outputs?: unknown;
  execution_count?: unknown;
  metadata?: { tags?: unknown };
}

function renderCell(cell: Cell): string {
  const source = joinText(cell.source);
  const tags = Array.isArray(cell.metadata?.tags) ? cell.metadata.tags.filter((t): t is string => typeof t === "string") : [];
  const tagHtml = tags.length > 0 ? `<div class="tags">${tags.map((t) => `<span>${escapeHtml(t)}</span>`).join("")}</div>` : "";
  if (cell.cell_type === "markdown") return `<section class="cell markdown">${tagHtml}${markdown.render(source)}</section>`;
  if (cell.cell_type === "raw") return `<section class="cell raw"><pre>${escapeHtml(source)}</pre></section>`;
  const count = typeof cell.execution_count === "number" ? String(cell.execution_count) : " ";
  const outputs = Array.isArray(cell.outputs) ? cell.outputs.filter((o): o is Record<string, unknown> => typeof o === "object" && o !== null).map(renderOutput).join("") : "";
  return `<section class="cell code${tags.includes("injected-parameters") ? " injected" : ""}">${tagHtml}<div class="in"><span class="prompt">[${escapeHtml(count)}]</span><pre class="source">${escapeHtml(source)}</pre></div>${outputs ? `<div class="out">${outputs}</div>` : ""}</section>`;
}

const STYLE = `
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2430;margin:0;padding:16px 24px;background:#fff}
.cell{margin:0 0 14px}
.in{display:flex;gap:8px}
.prompt{color:#8a93a6;font:12px ui-monospace,monospace;min-width:40px;padding-top:8px;text-align:right}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font:12.5px/1.45 ui-monospace,"SFMono-Regular",Menlo,monospace}
.source{flex:1;background:#f5f7fa;border:1px solid #e3e7ee;border-radius:6px;padding:8px 10px}
.injected .source{border-color:#f0c36d;background:#fffaf0}
.out{margin:6px 0 0 48px;overflow-x:auto}
.out pre{padding:4px 0}
.stderr{background:#fff5f5}
.error{background:#fff0f0;border-left:3px solid #d64545;padding:6px 10px}
.tags span{display:inline-block;font-size:11px;background:#eef1f6;color:#4a5468;border-radius:10px;padding:0 8px;margin:0 4px 4px 48px}
.markdown{padding:0 8px 0 48px}
img{max-width:100%}
table{border-collapse:collapse}td,th{border:1px solid #dde2ea;padding:3px 8px}
`;

/**
 * The notebook as a standalone page; throws when the text is not a notebook. With a mask, secret
 * values are masked in the notebook's strings before rendering (see maskNotebookValue) and in the
 * page after it (their HTML-escaped forms, and what rendering put together).
 */
export function renderNotebookHtml(text: string, title: string, mask: SecretMask = SecretMask.none): string {
  const notebook = maskNotebookValue(JSON.parse(text), mask) as { cells?: unknown; nbformat?: unknown };
  if (typeof notebook !== "object" || notebook === null || !Array.isArray(notebook.cells)) throw new Error("not a notebook: it has no cells list");
  const cells = (notebook.cells as Cell[]).filter((c) => typeof c === "object" && c !== null).map(renderCell).join("\n");
  return mask.maskText(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${cells}</body></html>`);
}
