import { describe, expect, it } from "vitest";
import { SecretMask } from "../../secrets/index.js";
import { maskNotebookText } from "./notebook-file.js";
import { NOTEBOOK_CSP, renderNotebookHtml } from "./notebook-html.js";

const notebook = (cells: unknown[]) => JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 });

describe("renderNotebookHtml", () => {
  it("renders markdown, code and outputs, escaping code and text", () => {
    const html = renderNotebookHtml(
      notebook([
        { cell_type: "markdown", metadata: {}, source: ["# Title\n", "*em*"] },
        {
          cell_type: "code",
          execution_count: 3,
          metadata: { tags: ["injected-parameters"] },
          source: "x = '<b>'",
          outputs: [
            { output_type: "stream", name: "stdout", text: ["<not html>\n"] },
            { output_type: "execute_result", data: { "text/plain": "42" }, metadata: {}, execution_count: 3 },
            { output_type: "display_data", data: { "image/png": "iVBORw0KGgo=" }, metadata: {} },
            { output_type: "error", ename: "ValueError", evalue: "bad", traceback: ["\u001b[31mValueError\u001b[0m: bad"] },
          ],
        },
      ]),
      "t",
    );
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<em>em</em>");
    expect(html).toContain("x = &#39;&lt;b&gt;&#39;");
    expect(html).toContain("&lt;not html&gt;");
    expect(html).toContain("[3]");
    expect(html).toContain('class="cell code injected"');
    expect(html).toContain('src="data:image/png;base64,iVBORw0KGgo="');
    expect(html).toMatch(/<span style="color:rgb\(187,0,0\)">ValueError<\/span>: bad/);
  });

  it("does not put non-base64 image data into an attribute", () => {
    const html = renderNotebookHtml(notebook([{ cell_type: "code", source: "", metadata: {}, outputs: [{ output_type: "display_data", data: { "image/png": '" onerror="x' } }] }]), "t");
    expect(html).not.toContain("onerror");
  });

  it("refuses what is not a notebook, and is meant for a sandbox without scripts", () => {
    expect(() => renderNotebookHtml("{}", "t")).toThrow(/no cells/);
    expect(() => renderNotebookHtml("not json", "t")).toThrow();
    expect(NOTEBOOK_CSP).toMatch(/^sandbox; default-src 'none'/);
  });
});

/**
 * A secret with a quote, a backslash, `<`, `>` and a line break, in every place a notebook can hold
 * it: split across the lines of a stream, JSON-escaped inside printed JSON, HTML-escaped in an HTML
 * output, as Python's repr, in application/json, a traceback, markdown, a raw cell and metadata.
 * Its letters are the only upper-case letters in the notebook, so an upper-case letter in the
 * answer is a piece of it shown.
 */
const SECRET = 'QZX"JWQ\\<VKQ\nYPQ>KZQ';
const json = (s: string) => JSON.stringify(s).slice(1, -1);
const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const [line1, line2] = SECRET.split("\n") as [string, string];
const leaky = notebook([
  { cell_type: "markdown", metadata: {}, source: ["# notes\n", `the key is ${SECRET} ok`] },
  {
    cell_type: "code",
    execution_count: 1,
    metadata: { tags: ["parameters"], note: SECRET },
    source: ["import json\n", `key = ${JSON.stringify(SECRET)}\n`, "print(json.dumps({'k': key}))"],
    outputs: [
      { output_type: "stream", name: "stdout", text: [`key=${line1}\n`, `${line2} end\n`] },
      { output_type: "stream", name: "stdout", text: [`${JSON.stringify({ k: SECRET })}\n`, `nested ${JSON.stringify(JSON.stringify({ k: SECRET }))}\n`] },
      { output_type: "display_data", metadata: {}, data: { "text/html": [`<table><td>${html(SECRET)}</td></table>`], "text/plain": ["<table>"] } },
      { output_type: "display_data", metadata: {}, data: { "application/json": { k: SECRET } } },
      { output_type: "execute_result", execution_count: 1, metadata: {}, data: { "text/plain": [`'${SECRET.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}'`] } },
      { output_type: "error", ename: "oops", evalue: `bad ${json(SECRET)}`, traceback: [`\u001b[31moops\u001b[0m: bad ${line1}`, `${line2} tail`] },
    ],
  },
  { cell_type: "raw", metadata: {}, source: SECRET },
]);
const mask = SecretMask.of([SECRET, "other-team-value"]);

describe("notebooks with secret values", () => {
  it("renders a notebook without any piece of a secret, whatever form it takes", () => {
    const page = renderNotebookHtml(leaky, "t", mask);
    const body = page.slice(page.indexOf("<body>"));
    expect(body.match(/[A-Z]+/g) ?? []).toEqual([]);
    expect(body).toContain("key=***");
    expect(body).toContain("<td>***</td>");
    expect(body).toContain("<section class=\"cell raw\"><pre>***</pre>");
    // Without the mask the same page shows it: the check above can fail.
    expect(renderNotebookHtml(leaky, "t").slice(page.indexOf("<body>"))).toMatch(/[A-Z]/);
  });

  it("masks the .ipynb answer in every string, keeping it a notebook, and leaves a notebook without secrets byte for byte", () => {
    const masked = maskNotebookText(leaky, mask);
    expect(masked.match(/[A-Z]+/g) ?? []).toEqual([]);
    const parsed = JSON.parse(masked) as { cells: { outputs?: { text?: string[] }[] }[] };
    expect(parsed.cells[1]?.outputs?.[0]?.text).toEqual(["key=*** end\n"]);
    expect(leaky.match(/[A-Z]/)).not.toBeNull();
    const clean = notebook([{ cell_type: "markdown", metadata: {}, source: "nothing" }]).replace("{", "{ ");
    expect(maskNotebookText(clean, mask)).toBe(clean);
    expect(maskNotebookText(`not json ${SECRET}`, mask)).toBe("not json ***");
  });
});
