// A document of a kind that has no form of its own yet, shown read-only as its fields.

import { t } from "../i18n";

function Value({ v }: { v: unknown }) {
  if (v == null) return <span class="muted">—</span>;
  if (Array.isArray(v))
    return v.length === 0 ? (
      <span class="muted">{t("doc.empty_list")}</span>
    ) : (
      <ol>
        {v.map((x, i) => (
          <li key={i}>
            <Value v={x} />
          </li>
        ))}
      </ol>
    );
  if (typeof v === "object" && !(v instanceof Uint8Array) && !("val" in (v as object))) {
    return (
      <dl>
        {Object.entries(v as object).map(([k, x]) => (
          <div key={k}>
            <dt>{k.replace(/_/g, " ")}</dt>
            <dd>
              <Value v={x} />
            </dd>
          </div>
        ))}
      </dl>
    );
  }
  return <span>{String(v)}</span>;
}

/** Every field of a document, read-only. */
export function GenericDoc({ doc }: { doc: Record<string, unknown> }) {
  const { kind: _k, schema: _s, ...rest } = doc;
  return (
    <section class="fields">
      <Value v={rest} />
    </section>
  );
}
