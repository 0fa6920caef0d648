// The app's shell: sign-in, then the member's replica, a header with the connection's
// state, and the page the URL names.

import { useEffect, useState } from "preact/hooks";
import { signOut, storedSession, type Session } from "./session";
import { forgetDevice, openReplica, type Replica } from "./repo";
import type { SocketState } from "./hubsocket";
import { useRoute, href } from "./route";
import { SignIn } from "./pages/SignIn";
import { Networks } from "./pages/Networks";
import { NetworkHome } from "./pages/NetworkHome";
import { DocPage } from "./pages/Doc";
import { NewCycle } from "./pages/NewCycle";
import { MeasuresPage } from "./pages/Measures";
import { MeasurePage } from "./pages/Measure";
import { DataEntryPage } from "./pages/DataEntry";
import { ComparePage } from "./pages/Compare";
import { DistrictPage } from "./pages/District";
import { CoachingPage } from "./pages/Coaching";
import { NewDocPage } from "./pages/NewDoc";
import { PublicPage } from "./pages/Public";
import { t } from "./i18n";
import { Role } from "./gen/nic/v1/common_pb";

const ROLE_KEYS = {
  [Role.HUB_ADMIN]: "role.hub_admin",
  [Role.NETWORK_LEAD]: "role.network_lead",
  [Role.SITE_MEMBER]: "role.site_member",
  [Role.OBSERVER]: "role.observer",
} as const;

/** The page the route names. Pages that start with hub calls draw before the replica (and
 * Automerge's wasm) is ready; pages that open documents wait for it. */
function Pages({ session, replica }: { session: Session; replica: Replica | null }) {
  const route = useRoute();
  useEffect(() => {
    document.getElementById("main")?.focus();
  }, [route]);
  if (route.page === "networks") return <Networks session={session} />;
  if (route.page === "network") return <NetworkHome session={session} replica={replica} networkId={route.networkId} />;
  if (!replica) return <p role="status">{t("loading")}</p>;
  switch (route.page) {
    case "new-cycle":
      return <NewCycle session={session} replica={replica} networkId={route.networkId} />;
    case "doc":
      return <DocPage session={session} replica={replica} docId={route.docId} />;
    case "measures":
      return <MeasuresPage session={session} replica={replica} networkId={route.networkId} />;
    case "measure":
      return <MeasurePage session={session} replica={replica} measureId={route.measureId} />;
    case "data-entry":
      return <DataEntryPage session={session} replica={replica} networkId={route.networkId} />;
    case "compare":
      return <ComparePage session={session} networkId={route.networkId} idea={route.idea} />;
    case "district":
      return <DistrictPage session={session} />;
    case "coaching":
      return <CoachingPage session={session} replica={replica} networkId={route.networkId} />;
    case "new-doc":
      return <NewDocPage session={session} replica={replica} networkId={route.networkId} kind={route.kind} />;
    default:
      return (
        <section>
          <h1>{t("notfound.title")}</h1>
          <a href={href({ page: "networks" })}>{t("notfound.home")}</a>
        </section>
      );
  }
}

/** The whole app: the public dashboard needs no sign-in; every other page does. */
export function App() {
  const route = useRoute();
  if (route.page === "public") {
    return (
      <main id="main" tabIndex={-1}>
        <PublicPage networkId={route.networkId} />
      </main>
    );
  }
  return <SignedInApp />;
}

function SignedInApp() {
  const [session, setSession] = useState<Session | null>(() => storedSession());
  const [replica, setReplica] = useState<Replica | null>(null);
  const [state, setState] = useState<SocketState>("connecting");
  useEffect(() => {
    if (!session) return;
    let live = true;
    let opened: Replica | null = null;
    let unsubscribe = () => {};
    openReplica(session).then((r) => {
      if (!live) return r.repo.shutdown();
      opened = r;
      unsubscribe = r.socket.onState(setState);
      setReplica(r);
    });
    return () => {
      live = false;
      unsubscribe();
      void opened?.repo.shutdown();
    };
  }, [session]);
  const leave = async () => {
    const database = replica?.database;
    signOut();
    setSession(null);
    setReplica(null);
    if (database) await forgetDevice(database);
  };
  return (
    <>
      <a class="skip" href="#main">
        {t("skip")}
      </a>
      <header>
        <a class="brand" href={href({ page: "networks" })}>
          {t("app.name")}
        </a>
        {session && (
          <nav aria-label={t("nav.label")}>
            <span class={`conn conn-${state}`} role="status" data-testid="connection">
              {t(`conn.${state}`)}
            </span>
            <span class="who">
              {session.displayName} ({t(ROLE_KEYS[session.role as keyof typeof ROLE_KEYS] ?? "role.observer")})
            </span>
            <button type="button" onClick={leave}>
              {t("signout")}
            </button>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {!session ? (
          <SignIn onSignedIn={setSession} />
        ) : state === "signed-out" ? (
          <section>
            <h1>{t("conn.signed-out")}</h1>
            <p>{t("signedout.text")}</p>
            <button type="button" onClick={leave}>
              {t("signin.again")}
            </button>
          </section>
        ) : (
          <Pages session={session} replica={replica} />
        )}
      </main>
    </>
  );
}
