import { describe, expect, it } from "vitest";
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
