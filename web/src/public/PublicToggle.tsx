// A network lead's switch for the network's public dashboard, on the network's home page:
// shows whether it is on, turns it on or off (Directory.SetPublicDashboard) and gives the
// public link.

import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import { t } from "../i18n";
import { href } from "../route";
import { leads, type Session } from "../session";

/** The switch, for the network's leads and hub admins; nothing for anyone else. */
export function PublicToggle({ session, networkId }: { session: Session; networkId: string }) {
  const [on, setOn] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const lead = leads(session, networkId);
  useEffect(() => {
    if (!lead) return;
    session.api.directory
      .listNetworks({ pageSize: 1000 })
      .then((r) => setOn(r.networks.find((n) => n.networkId === networkId)?.publicDashboard ?? false))
      .catch((e) => setError(errorText(e)));
  }, [networkId, lead]);
  if (!lead) return null;
  const link = `${location.origin}${location.pathname}${href({ page: "public", networkId })}`;
  const change = (enabled: boolean) => {
    // The box shows the click at once (disabled while the hub answers) and goes back if the
    // hub refuses: a controlled box left at the old value until the answer would undo the
    // click on the next render, so the click would look ignored.
    const before = on;
    setOn(enabled);
    setBusy(true);
    setError("");
    setMessage("");
    session.api.directory
      .setPublicDashboard({ networkId, enabled })
      .then((r) => {
        const now = r.network?.publicDashboard ?? enabled;
        setOn(now);
        setMessage(now ? t("public.toggle_now_on") : t("public.toggle_now_off"));
      })
      .catch((e) => {
        setOn(before);
        setError(errorText(e));
      })
      .finally(() => setBusy(false));
  };
  return (
    <section aria-labelledby="pub-toggle-h" class="pub-toggle">
      <h2 id="pub-toggle-h">{t("public.toggle_title")}</h2>
      <p>{t("public.toggle_text")}</p>
      {on === null && !error ? (
        <p role="status">{t("loading")}</p>
      ) : (
        <label>
          <input type="checkbox" checked={on === true} disabled={busy || on === null} onChange={(e) => change((e.target as HTMLInputElement).checked)} /> {t("public.toggle_label")}
        </label>
      )}
      {on && (
        <p>
          {t("public.toggle_link")} <a href={href({ page: "public", networkId })}>{link}</a>
        </p>
      )}
      <p role="status">{message}</p>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
