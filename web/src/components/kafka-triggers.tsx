/** A pipeline's Kafka triggers on its page: state since when (with the error of a failed one) and, per partition, committed offset, end offset and lag. */
import { useQuery } from "@tanstack/react-query";
import { api, seg } from "../api/client.js";
import type { Answer } from "../api/types.js";
import { dateTime } from "../format.js";
import { ErrorNote } from "./feedback.js";

type PipelineTriggers = Answer<"/api/pipelines/{id}/triggers", "get">;

/** Nothing for a pipeline without triggers; the figures are read again every 5 s. */
export function KafkaTriggersPanel({ pipeline }: { pipeline: string }) {
  const triggers = useQuery({
    queryKey: ["pipeline-triggers", pipeline],
    queryFn: () => api<PipelineTriggers>("GET", `/api/pipelines/${seg(pipeline)}/triggers`),
    refetchInterval: 5_000,
  });
  if (triggers.error) return <ErrorNote error={triggers.error} />;
  if (!triggers.data || triggers.data.triggers.length === 0) return null;
  return (
    <section className="panel" aria-label="Kafka triggers">
      <h2>Kafka triggers</h2>
      {!triggers.data.consuming_here && <p className="muted">No platform consumes here: start one with capstan up.</p>}
      {triggers.data.triggers.map((t) => (
        <div key={t.index} className="trigger" data-state={t.state}>
          <div className="meta-line">
            <strong>{t.topic}</strong>
            <span className="muted">
              connection <code>{t.connection}</code>, group <code>{t.group}</code>
            </span>
            {t.filter && (
              <span className="muted">
                filter <code>{t.filter}</code>
              </span>
            )}
            <span className={`tag trigger-state ${t.state}`} aria-label="Trigger state">
              {t.state}
            </span>
            {t.since && <span className="muted">since {dateTime(t.since)}</span>}
            <span className="muted">
              {t.runs_created} runs made, {t.filtered_out} messages filtered out
            </span>
          </div>
          {t.error && (
            <p className="error-note" role="alert">
              {t.error}
            </p>
          )}
          {t.partitions.length > 0 && (
            <table className="table" aria-label={`Partitions of ${t.topic}`}>
              <thead>
                <tr>
                  <th>Partition</th>
                  <th>Committed</th>
                  <th>End</th>
                  <th>Lag</th>
                </tr>
              </thead>
              <tbody>
                {t.partitions.map((p) => (
                  <tr key={p.partition}>
                    <td>{p.partition}</td>
                    <td>{p.committed ?? "none"}</td>
                    <td>{p.end}</td>
                    <td>{p.lag}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ))}
    </section>
  );
}
