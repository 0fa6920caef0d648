// Not built yet: says so, rather than pretending.

import type { Session } from "../session";
import { t } from "../i18n";

/** A page not built yet. */
export function DistrictPage(_props: { session: Session }) {
  return (
    <section>
      <h1>{t("todo.title")}</h1>
      <p>{t("todo.text")}</p>
    </section>
  );
}
