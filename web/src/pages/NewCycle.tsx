// Starting a PDSA cycle: which change idea it tests, at which site, and its objective.

import { useState } from "preact/hooks";
import { useCall } from "../hooks";
import { DocKind, Role, Visibility } from "../gen/nic/v1/common_pb";
import type { Session } from "../session";
import type { Replica } from "../repo";
import { createDocument } from "../create";
import { writeNewCycle } from "../model";
import { href } from "../route";
import { t } from "../i18n";
import { errorText } from "../api";

/** The form that creates a cycle. */
export function NewCycle({ session, replica, networkId }: { session: Session; replica: Replica; networkId: string }) {
  const sites = useCall(() => session.api.directory.listSites({ networkId }), [networkId]);
  const overview = useCall(() => session.api.insight.networkOverview({ networkId }), [networkId]);
  const ownSite = session.role === Role.SITE_MEMBER ? session.siteId : "";
  const [site, setSite] = useState(ownSite);
  const [idea, setIdea] = useState("");
  const [objective, setObjective] = useState("");
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const ideas = (overview.value?.changeIdeas ?? []).map((c) => c.changeIdea);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!idea.trim()) return setProblem(t("newcycle.need_idea"));
    setBusy(true);
    setProblem("");
    try {
      const id = await createDocument(session, replica, {
        kind: DocKind.PDSA_CYCLE,
        networkId,
        siteId: site,
        visibility: Visibility.NETWORK,
        title: `${idea.trim()} — ${t("cycle.number", { n: 1 })}`,
        write: (d) => writeNewCycle(d, idea.trim(), 1, objective),
      });
      location.hash = href({ page: "doc", docId: id });
    } catch (err) {
      setProblem(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="newcycle-h">
      <h1 id="newcycle-h">{t("newcycle.title")}</h1>
      <form onSubmit={submit}>
        <div class="field">
          <label for="idea">{t("newcycle.idea")}</label>
          <input id="idea" list="ideas" value={idea} onInput={(e) => setIdea(e.currentTarget.value)} aria-describedby="idea-hint" />
          <p class="hint" id="idea-hint">
            {t("newcycle.idea_hint")}
          </p>
          <datalist id="ideas">
            {ideas.map((i) => (
              <option key={i} value={i} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="site">{t("newcycle.site")}</label>
          <select id="site" value={site} disabled={!!ownSite} onChange={(e) => setSite(e.currentTarget.value)}>
            {!ownSite && <option value="">{t("newcycle.network_level")}</option>}
            {(sites.value?.sites ?? [])
              .filter((s) => !ownSite || s.siteId === ownSite)
              .map((s) => (
                <option key={s.siteId} value={s.siteId}>
                  {s.name || s.siteId}
                </option>
              ))}
            {ownSite && !(sites.value?.sites ?? []).some((s) => s.siteId === ownSite) && <option value={ownSite}>{ownSite}</option>}
          </select>
        </div>
        <div class="field">
          <label for="objective">{t("cycle.objective")}</label>
          <textarea id="objective" rows={3} value={objective} onInput={(e) => setObjective(e.currentTarget.value)} />
        </div>
        <button type="submit" disabled={busy}>
          {t("newcycle.create")}
        </button>
        {problem && (
          <p role="alert" class="error">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}
