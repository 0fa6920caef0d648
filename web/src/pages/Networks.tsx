// The networks the member belongs to.

import { useCall } from "../hooks";
import type { Session } from "../session";
import { href } from "../route";
import { t } from "../i18n";
import { errorText } from "../api";

/** The list of networks. */
export function Networks({ session }: { session: Session }) {
  const networks = useCall(() => session.api.directory.listNetworks({ pageSize: 1000 }), [session]);
  return (
    <section aria-labelledby="networks-h">
      <h1 id="networks-h">{t("networks.title")}</h1>
      {networks.error ? (
        session.networkIds.length > 0 ? (
          <ul>
            {session.networkIds.map((id) => (
              <li key={id}>
                <a href={href({ page: "network", networkId: id })}>{id}</a>
              </li>
            ))}
          </ul>
        ) : (
          <p role="alert">{errorText(networks.error)}</p>
        )
      ) : !networks.value ? (
        <p role="status">{t("loading")}</p>
      ) : networks.value.networks.length === 0 ? (
        <p>{t("networks.none")}</p>
      ) : (
        <ul class="cards">
          {networks.value.networks.map((n) => (
            <li key={n.networkId}>
              <a href={href({ page: "network", networkId: n.networkId })}>
                <strong>{n.name || n.networkId}</strong>
              </a>
              <p>{n.description}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
