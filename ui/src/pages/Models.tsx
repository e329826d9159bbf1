// Model prices: the project's custom models beside the built-in table, the switch that
// turns built-in prices off, and the recomputation of costs over a time range.

import { useState } from "preact/hooks";
import { api, projectPath } from "../api";
import { time } from "../format";
import { useLoad } from "../hooks";
import { DeleteButton, TableHead } from "../components/Table";

export interface PriceModel {
  id: string;
  modelName: string;
  matchPattern: string;
  startDate: string | null;
  unit: string;
  prices: Record<string, { price: number }>;
  pricingTiers: { id: string; name: string; isDefault: boolean; prices: Record<string, number> }[];
  tokenizerId: string | null;
  isLangfuseManaged: boolean;
  createdAt: string;
  source?: string | null;
}

/** USD per unit as USD per million units, the way price lists are written. */
export function perMillion(price: number | undefined): string {
  if (price === undefined) return "–";
  const value = price * 1_000_000;
  return `$${Number(value.toPrecision(6)).toLocaleString("en-US", { maximumFractionDigits: 6 })}`;
}

function PriceCells(props: { model: PriceModel }) {
  const prices = props.model.prices;
  const others = Object.keys(prices).filter((key) => key !== "input" && key !== "output");
  return (
    <>
      <td class="num">{perMillion(prices.input?.price)}</td>
      <td class="num">{perMillion(prices.output?.price)}</td>
      <td class="small">
        {others.map((key) => (
          <span key={key} class="tag">
            {key} {perMillion(prices[key].price)}
          </span>
        ))}
        {props.model.pricingTiers
          .filter((tier) => !tier.isDefault)
          .map((tier) => (
            <span key={tier.id} class="tag" title={JSON.stringify(tier.prices)}>
              tier: {tier.name}
            </span>
          ))}
      </td>
    </>
  );
}

export function Models(props: { projectId: string; role: string }) {
  const models = useLoad(
    (signal) => api.get<{ data: PriceModel[]; builtinPrices: boolean }>(projectPath(props.projectId, "/models"), signal),
    [props.projectId],
  );
  // Admins and owners change prices.
  const owner = props.role === "owner" || props.role === "admin";
  const [filter, setFilter] = useState("");
  const [form, setForm] = useState({ modelName: "", matchPattern: "", input: "", output: "", tokenizer: "" });
  const [range, setRange] = useState({ from: "", to: "" });
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const fail = (reason: Error) => {
    setMessage("");
    setError(reason.message);
  };
  const all = models.data?.data ?? [];
  const custom = all.filter((model) => !model.isLangfuseManaged);
  const needle = filter.trim().toLowerCase();
  const builtin = all.filter(
    (model) => model.isLangfuseManaged && (!needle || model.modelName.toLowerCase().includes(needle) || model.id.includes(needle)),
  );
  const perToken = (text: string) => (text.trim() === "" ? undefined : Number(text) / 1_000_000);
  const create = (event: Event) => {
    event.preventDefault();
    setError("");
    const body: Record<string, unknown> = {
      modelName: form.modelName.trim(),
      matchPattern: form.matchPattern.trim() || `(?i)^${form.modelName.trim().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`,
      unit: "TOKENS",
      inputPrice: perToken(form.input),
      outputPrice: perToken(form.output),
    };
    if (form.tokenizer) body.tokenizerId = form.tokenizer;
    api.post(projectPath(props.projectId, "/models"), body).then(() => {
      setForm({ modelName: "", matchPattern: "", input: "", output: "", tokenizer: "" });
      setMessage(`Model ${body.modelName as string} saved: it prices generations ingested from now on. Recompute to apply it to earlier ones.`);
      models.reload(true);
    }, fail);
  };
  const toISO = (local: string) => (local ? new Date(local).toISOString() : undefined);
  const recompute = (event: Event) => {
    event.preventDefault();
    setError("");
    setMessage("Recomputing…");
    api
      .post<{ changed: number }>(projectPath(props.projectId, "/pricing/recompute"), { from: toISO(range.from), to: toISO(range.to) })
      .then((answer) => setMessage(`Recomputed: ${answer.changed.toLocaleString("en-US")} generations changed.`), fail);
  };
  return (
    <div class="page models">
      <h1>Models and prices</h1>
      <p class="muted">
        A generation's cost is its usage times the price of the model it matched, unless the SDK sent a cost. Custom models win over
        built-in ones. Price changes apply to data ingested afterwards; recompute to apply them to a time range.
      </p>
      {error ? <p class="error-box" role="alert">{error}</p> : null}
      {message ? <p class="card notice" role="status">{message}</p> : null}
      {models.error ? <p class="error-box">{models.error}</p> : null}
      <section class="card">
        <h2>Custom models</h2>
        {custom.length === 0 ? <p class="muted">No custom models yet.</p> : null}
        {custom.length > 0 ? (
          <table class="data compact" data-testid="custom-models">
            <TableHead columns={["Name", "Match pattern", ["Input / 1M", "num"], ["Output / 1M", "num"], "Other prices", "Created", ""]} />
            <tbody>
              {custom.map((model) => (
                <tr key={model.id}>
                  <td>{model.modelName}</td>
                  <td>
                    <code>{model.matchPattern}</code>
                  </td>
                  <PriceCells model={model} />
                  <td>{time(model.createdAt)}</td>
                  <td>
                    {owner ? (
                      <DeleteButton projectId={props.projectId} path={`/models/${encodeURIComponent(model.id)}`} question={`Delete the model ${model.modelName}?`}
                        label="Delete" done={() => models.reload(true)} fail={fail} />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {owner ? (
          <form class="inline-form" onSubmit={create} aria-label="Add a model">
            <label>
              Name
              <input required value={form.modelName} onInput={(e) => setForm({ ...form, modelName: e.currentTarget.value })} placeholder="my-finetune" />
            </label>
            <label>
              Match pattern
              <input value={form.matchPattern} onInput={(e) => setForm({ ...form, matchPattern: e.currentTarget.value })} placeholder="(?i)^my-finetune$" />
            </label>
            <label>
              Input $ / 1M tokens
              <input inputMode="decimal" value={form.input} onInput={(e) => setForm({ ...form, input: e.currentTarget.value })} />
            </label>
            <label>
              Output $ / 1M tokens
              <input inputMode="decimal" value={form.output} onInput={(e) => setForm({ ...form, output: e.currentTarget.value })} />
            </label>
            <label>
              Tokenizer
              <select value={form.tokenizer} onChange={(e) => setForm({ ...form, tokenizer: e.currentTarget.value })}>
                <option value="">none</option>
                <option value="openai">openai</option>
              </select>
            </label>
            <button type="submit">Add model</button>
          </form>
        ) : null}
      </section>
      <section class="card">
        <h2>Built-in prices</h2>
        <label class="switch">
          <input
            type="checkbox"
            checked={models.data?.builtinPrices ?? true}
            disabled={!owner || !models.data}
            onChange={(event) => {
              const enabled = event.currentTarget.checked;
              api.put(projectPath(props.projectId, "/pricing"), { builtinPrices: enabled }).then(() => models.reload(true), fail);
            }}
          />{" "}
          Price generations with the built-in table ({builtin.length} models shown)
        </label>
        <input type="search" placeholder="Filter built-in models" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} aria-label="Filter built-in models" />
        <table class="data compact" data-testid="builtin-models">
          <TableHead columns={["Name", "Match pattern", ["Input / 1M", "num"], ["Output / 1M", "num"], "Other prices", "Since"]} />
          <tbody>
            {builtin.map((model) => (
              <tr key={model.id}>
                <td title={model.source ?? undefined}>{model.modelName}</td>
                <td>
                  <code>{model.matchPattern}</code>
                </td>
                <PriceCells model={model} />
                <td class="nowrap">{model.startDate ? model.startDate.slice(0, 10) : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {owner ? (
        <section class="card">
          <h2>Recompute costs</h2>
          <form class="inline-form" onSubmit={recompute} aria-label="Recompute costs">
            <label>
              From
              <input type="datetime-local" value={range.from} onInput={(e) => setRange({ ...range, from: e.currentTarget.value })} />
            </label>
            <label>
              To
              <input type="datetime-local" value={range.to} onInput={(e) => setRange({ ...range, to: e.currentTarget.value })} />
            </label>
            <button type="submit">Recompute with today's prices</button>
          </form>
          <p class="muted small">Empty bounds mean all time. Costs the SDK sent are never replaced.</p>
        </section>
      ) : null}
    </div>
  );
}
