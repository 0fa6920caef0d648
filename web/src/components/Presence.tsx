// Who else has this document open right now.

import type { Viewer } from "../hooks";
import { t } from "../i18n";

/** A polite live region naming the other viewers. */
export function Presence({ viewers }: { viewers: Viewer[] }) {
  const names = [...new Set(viewers.map((v) => v.name || v.memberId))];
  return (
    <p class="presence" role="status" aria-live="polite" data-testid="presence">
      {names.length === 0 ? t("presence.alone") : t("presence.others", { names: names.join(", ") })}
    </p>
  );
}
