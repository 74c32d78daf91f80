/**
 * The pipeline's DAG drawn with React Flow, laid out left to right by dagre; each task is coloured
 * by its state in the shown run and links to its task page.
 */
import dagre from "@dagrejs/dagre";
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { memo, useMemo } from "react";
import { Link, useNavigate } from "react-router";
import type { TaskView } from "../api/types.js";
import { STATE_LABEL, stateClass } from "./state.js";

export interface GraphTask {
  id: string;
  kind: string;
  dependsOn: string[];
}

interface TaskNodeData extends Record<string, unknown> {
  id: string;
  kind: string;
  state: string;
  tries: number;
  /** The task page in the shown run, when there is one. */
  href?: string;
}

const NODE_W = 190;
const NODE_H = 46;

const TaskNode = memo(function TaskNode({ data }: NodeProps<Node<TaskNodeData>>) {
  return (
    <div className={`dag-node ${stateClass(data.state as never)}`} data-task={data.id} data-state={data.state} title={`${data.id}: ${STATE_LABEL[data.state] ?? data.state}`}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <span className={`kind kind-${data.kind}`} aria-hidden="true" />
      {/* A link per node: Tab reaches every task and Enter opens it. */}
      {data.href ? (
        <Link to={data.href} className="dag-node-id">
          {data.id}
        </Link>
      ) : (
        <span className="dag-node-id">{data.id}</span>
      )}
      <span className="dag-node-state">
        {STATE_LABEL[data.state] ?? data.state}
        {data.tries > 1 ? ` · try ${data.tries}` : ""}
      </span>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { task: TaskNode };

function layout(tasks: readonly GraphTask[]): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 60, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const t of tasks) g.setNode(t.id, { width: NODE_W, height: NODE_H });
  for (const t of tasks) for (const up of t.dependsOn) if (g.hasNode(up)) g.setEdge(up, t.id);
  dagre.layout(g);
  const positions = new Map<string, { x: number; y: number }>();
  for (const t of tasks) {
    const n = g.node(t.id) as { x: number; y: number } | undefined;
    positions.set(t.id, { x: (n?.x ?? 0) - NODE_W / 2, y: (n?.y ?? 0) - NODE_H / 2 });
  }
  return positions;
}

export default function DagGraph({ tasks, states, runId, height = 420 }: { tasks: GraphTask[]; states?: Record<string, TaskView> | undefined; runId?: string | undefined; height?: number }) {
  const navigate = useNavigate();
  const positions = useMemo(() => layout(tasks), [tasks]);
  const nodes: Node<TaskNodeData>[] = useMemo(
    () =>
      tasks.map((t) => ({
        id: t.id,
        type: "task",
        position: positions.get(t.id) ?? { x: 0, y: 0 },
        data: {
          id: t.id,
          kind: t.kind,
          state: states?.[t.id]?.state ?? "none",
          tries: states?.[t.id]?.tries ?? 0,
          ...(runId ? { href: `/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(t.id)}` } : {}),
        },
        draggable: false,
        connectable: false,
        ariaLabel: `${t.id}: ${STATE_LABEL[states?.[t.id]?.state ?? "none"] ?? ""}`,
      })),
    [tasks, positions, states, runId],
  );
  const edges: Edge[] = useMemo(
    () =>
      tasks.flatMap((t) =>
        t.dependsOn.map((up) => {
          const upState = states?.[up]?.state;
          return { id: `${up}->${t.id}`, source: up, target: t.id, type: "smoothstep", animated: upState === "running", className: upState === "success" ? "edge-done" : "" };
        }),
      ),
    [tasks, states],
  );
  return (
    <div className="dag" style={{ height }} data-testid="dag">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.12, minZoom: 0.55, maxZoom: 1.1 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable
        proOptions={{ hideAttribution: true }}
        nodesFocusable={false}
        onNodeClick={(event, node) => {
          // A click on the node's link is the link's own; elsewhere on the node it opens the task too.
          if ((event.target as HTMLElement).closest("a")) return;
          if (runId) void navigate(`/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(node.id)}`);
        }}
      >
        <Background gap={18} size={1} color="#e4e8f0" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
