// Not built yet: says so, rather than pretending.

import type { Session } from "../session";
import type { Replica } from "../repo";
import { t } from "../i18n";

/** A page not built yet. */
export function NewDocPage(_props: { session: Session; replica: Replica; networkId: string; kind: string }) {
  return (
    <section>
      <h1>{t("todo.title")}</h1>
      <p>{t("todo.text")}</p>
    </section>
  );
}
