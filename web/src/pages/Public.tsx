// Not built yet: says so, rather than pretending.

import { t } from "../i18n";

/** The public family and community dashboard of a network (no sign-in). */
export function PublicPage(_props: { networkId: string }) {
  return (
    <section>
      <h1>{t("todo.title")}</h1>
      <p>{t("todo.text")}</p>
    </section>
  );
}
