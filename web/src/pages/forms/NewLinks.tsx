// The network home's links to start a site's inquiry documents (for members who may write).

import { href } from "../../route";
import { t } from "../../i18n";
import { FORM_KINDS } from "../../forms/model";

/** "Record an empathy interview", "Start a root-cause analysis"… */
export function NewInquiryLinks({ networkId }: { networkId: string }) {
  return (
    <ul class="new-links" aria-label={t("newdoc.links")}>
      {Object.keys(FORM_KINDS).map((kind) => (
        <li key={kind}>
          <a class="button secondary" href={href({ page: "new-doc", networkId, kind })}>
            {t(`newdoc.title_${kind}` as any)}
          </a>
        </li>
      ))}
    </ul>
  );
}
