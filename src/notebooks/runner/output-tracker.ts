/**
 * Turns a cell's IOPub messages into notebook outputs as nbclient does: execution counts,
 * `metadata.execution` timestamps, clear_output (immediate or on the next output), display-id
 * updates (also in earlier cells), and widget state from comm messages.
 */
import type { KernelMessage } from "../kernel/session.js";
import type { CodeCell, Notebook, NotebookCell, NotebookOutput } from "../nbformat/notebook.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../values/json-value.js";
import { messageTimestamp } from "./clock.js";

/** An output as it arrives, for `--log-output`. */
export interface LiveOutput {
  cellIndex: number;
  /** "stdout" or "stderr" for streams, "data" for the text/plain of results and displays */
  stream: "stdout" | "stderr" | "data";
  text: string;
}

function outputFromMessage(type: string, content: JsonObject): NotebookOutput | undefined {
  switch (type) {
    case "execute_result":
      return { output_type: type, data: content["data"] ?? {}, execution_count: content["execution_count"] ?? null, metadata: content["metadata"] ?? {} };
    case "display_data":
      return { output_type: type, data: content["data"] ?? {}, metadata: content["metadata"] ?? {} };
    case "stream":
      return { output_type: type, name: content["name"] ?? "stdout", text: content["text"] ?? "" };
    case "error":
      return { output_type: type, ename: content["ename"] ?? "", evalue: content["evalue"] ?? "", traceback: content["traceback"] ?? [] };
    default:
      return undefined;
  }
}

/** Tracks outputs across the cells of one run (display ids and widgets outlive a cell). */
export class OutputTracker {
  private readonly displayIds = new Map<string, Map<number, number[]>>();
  private readonly widgetState = new Map<string, JsonObject>();
  private readonly widgetBuffers = new Map<string, Map<string, JsonObject>>();
  private clearBeforeNextOutput = false;

  constructor(
    private readonly notebook: Notebook,
    /** called for every cell whose content changed */
    private readonly changed: (cell: NotebookCell) => void,
    /** receives outputs as they arrive, when logging them */
    private readonly live?: (output: LiveOutput) => void,
    private readonly warn?: (message: string) => void,
  ) {}

  /** Call before a cell executes. */
  beginCell(): void {
    this.clearBeforeNextOutput = false;
  }

  /** Processes one IOPub message of the running cell; returns true when the kernel went idle. */
  process(message: KernelMessage, cell: CodeCell, cellIndex: number): boolean {
    const type = message.header.msg_type;
    const content = message.content;
    const transient = content["transient"];
    const displayId = isJsonObject(transient) && typeof transient["display_id"] === "string" && transient["display_id"] ? transient["display_id"] : undefined;
    if (displayId && (type === "execute_result" || type === "display_data" || type === "update_display_data")) {
      this.updateDisplayId(displayId, content);
    }
    if ("execution_count" in content) {
      cell.execution_count = content["execution_count"] as number | null;
    }
    const timing = isJsonObject(cell.metadata["execution"]) ? cell.metadata["execution"] : undefined;
    if (type === "status") {
      const state = content["execution_state"];
      if (timing && (state === "idle" || state === "busy")) {
        timing[`iopub.status.${state}`] = messageTimestamp(message.header.date);
      }
    } else if (type === "execute_input" && timing) {
      timing["iopub.execute_input"] = messageTimestamp(message.header.date);
    }
    this.changed(cell);
    if (type === "status") {
      return content["execution_state"] === "idle";
    }
    if (type === "clear_output") {
      if (content["wait"]) {
        this.clearBeforeNextOutput = true;
      } else {
        cell.outputs = [];
        this.clearDisplayIds(cellIndex);
      }
    } else if (type.startsWith("comm")) {
      this.handleComm(message);
    } else if (type !== "execute_input" && type !== "update_display_data") {
      this.append(type, content, displayId, cell, cellIndex);
    }
    return false;
  }

  private append(type: string, content: JsonObject, displayId: string | undefined, cell: CodeCell, cellIndex: number): void {
    const output = outputFromMessage(type, content);
    if (!output) {
      this.warn?.(`unhandled iopub msg: ${type}`);
      return;
    }
    if (this.clearBeforeNextOutput) {
      cell.outputs = [];
      this.clearDisplayIds(cellIndex);
      this.clearBeforeNextOutput = false;
    }
    if (displayId) {
      const cells = this.displayIds.get(displayId) ?? new Map<number, number[]>();
      this.displayIds.set(displayId, cells);
      const indices = cells.get(cellIndex) ?? [];
      cells.set(cellIndex, indices);
      indices.push(cell.outputs.length);
    }
    cell.outputs.push(output);
    this.emitLive(output, cellIndex);
  }

  private emitLive(output: NotebookOutput, cellIndex: number): void {
    if (!this.live) {
      return;
    }
    if (output.output_type === "stream") {
      const name = output["name"] === "stderr" ? "stderr" : "stdout";
      this.live({ cellIndex, stream: name, text: typeof output["text"] === "string" ? output["text"] : "" });
    } else if (isJsonObject(output["data"]) && typeof output["data"]["text/plain"] === "string") {
      this.live({ cellIndex, stream: "data", text: output["data"]["text/plain"] });
    }
  }

  private updateDisplayId(displayId: string, content: JsonObject): void {
    const cells = this.displayIds.get(displayId);
    if (!cells) {
      return;
    }
    for (const [cellIndex, indices] of cells) {
      const cell = this.notebook.cells[cellIndex];
      if (!cell || cell.cell_type !== "code") {
        continue;
      }
      for (const index of indices) {
        const output = (cell as CodeCell).outputs[index];
        if (output) {
          output["data"] = content["data"] ?? {};
          output["metadata"] = content["metadata"] ?? {};
        }
      }
      this.changed(cell);
    }
  }

  private clearDisplayIds(cellIndex: number): void {
    for (const cells of this.displayIds.values()) {
      if (cells.has(cellIndex)) {
        cells.set(cellIndex, []);
      }
    }
  }

  private handleComm(message: KernelMessage): void {
    const content = message.content;
    const data = content["data"];
    const commId = content["comm_id"];
    if (!isJsonObject(data) || typeof commId !== "string") {
      return;
    }
    if (isJsonObject(data["state"])) {
      const state = this.widgetState.get(commId) ?? {};
      Object.assign(state, data["state"]);
      this.widgetState.set(commId, state);
      const paths = data["buffer_paths"];
      if (Array.isArray(paths) && paths.length > 0) {
        const buffers = this.widgetBuffers.get(commId) ?? new Map<string, JsonObject>();
        this.widgetBuffers.set(commId, buffers);
        paths.forEach((path, index) => {
          const buffer = message.buffers[index];
          if (buffer && Array.isArray(path)) {
            buffers.set(JSON.stringify(path), { data: buffer.toString("base64"), encoding: "base64", path });
          }
        });
      }
    }
    if (message.header.msg_type === "comm_open" && content["target_name"] !== "jupyter.widget") {
      this.warn?.(`No handler found for comm target ${JSON.stringify(content["target_name"] ?? null)}`);
    }
  }

  /** Writes the widget state into the notebook metadata, as nbclient does at the end of a run. */
  writeWidgetMetadata(): void {
    if (this.widgetState.size === 0) {
      return;
    }
    const state: JsonObject = {};
    for (const [modelId, widget] of this.widgetState) {
      if (!("_model_name" in widget)) {
        continue;
      }
      const entry: JsonObject = {
        model_name: widget["_model_name"] ?? null,
        model_module: widget["_model_module"] ?? null,
        model_module_version: widget["_model_module_version"] ?? null,
        state: widget,
      };
      const buffers = this.widgetBuffers.get(modelId);
      if (buffers && buffers.size > 0) {
        entry["buffers"] = [...buffers.values()] as JsonValue[];
      }
      state[modelId] = entry;
    }
    this.notebook.metadata["widgets"] = { "application/vnd.jupyter.widget-state+json": { state, version_major: 2, version_minor: 0 } };
  }
}
