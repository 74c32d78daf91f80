/** Pools: slots and use at a glance; admins create, resize and delete them. */
import { useState, type FormEvent } from "react";
import { api, seg } from "../api/client.js";
import { keys, useAction, useMe, usePools } from "../api/hooks.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";

export function PoolsPage() {
  const pools = usePools();
  const me = useMe().data;
  const admin = me?.admin ?? false;
  const [name, setName] = useState("");
  const [slots, setSlots] = useState("4");
  const [description, setDescription] = useState("");
  const save = useAction((input: { name: string; slots: number; description?: string }) => api("PUT", `/api/pools/${seg(input.name)}`, { slots: input.slots, ...(input.description ? { description: input.description } : {}) }), () => [keys.pools]);
  const remove = useAction((pool: string) => api("DELETE", `/api/pools/${seg(pool)}`), () => [keys.pools]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ name, slots: Number(slots), ...(description ? { description } : {}) }, { onSuccess: () => setName("") });
  };
  return (
    <>
      <PageHeader title="Pools" />
      <p className="lead muted">A pool limits how many tasks that name it run at once; tasks that name none use the default pool.</p>
      <ErrorNote error={pools.error ?? save.error ?? remove.error} />
      {pools.isLoading && <Loading what="pools" />}
      {pools.data && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Pool</th>
              <th scope="col">In use</th>
              <th scope="col" className="num">
                Slots
              </th>
              <th scope="col">Description</th>
              {admin && <th scope="col" />}
            </tr>
          </thead>
          <tbody>
            {pools.data.map((p) => (
              <tr key={p.name}>
                <td className="strong">{p.name}</td>
                <td>
                  <span className="meter" role="meter" aria-valuemin={0} aria-valuemax={p.slots} aria-valuenow={p.used} aria-label={`${p.used} of ${p.slots} slots in use`}>
                    <span style={{ width: `${p.slots === 0 ? 0 : Math.min(100, (p.used / p.slots) * 100)}%` }} />
                  </span>{" "}
                  {p.used} / {p.slots}
                </td>
                <td className="num">
                  {admin ? (
                    <input
                      className="slots"
                      type="number"
                      min={0}
                      defaultValue={p.slots}
                      aria-label={`slots of ${p.name}`}
                      onBlur={(e) => {
                        const n = Number(e.target.value);
                        if (Number.isInteger(n) && n >= 0 && n !== p.slots) save.mutate({ name: p.name, slots: n, ...(p.description ? { description: p.description } : {}) });
                      }}
                    />
                  ) : (
                    p.slots
                  )}
                </td>
                <td>{p.description ?? ""}</td>
                {admin && (
                  <td>
                    {p.name !== "default" && (
                      <button type="button" className="link-button danger" onClick={() => window.confirm(`Delete pool ${p.name}?`) && remove.mutate(p.name)}>
                        Delete
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {admin && (
        <form className="panel form inline-form" onSubmit={submit} aria-label="New pool">
          <h2>New pool</h2>
          <div className="field">
            <label htmlFor="pool-name">Name</label>
            <input id="pool-name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}" value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="pool-slots">Slots</label>
            <input id="pool-slots" type="number" min={0} required value={slots} onChange={(e) => setSlots(e.target.value)} />
          </div>
          <div className="field grow">
            <label htmlFor="pool-description">Description</label>
            <input id="pool-description" value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <button type="submit" className="button primary" disabled={save.isPending}>
            Create
          </button>
        </form>
      )}
    </>
  );
}
