// Signing in with a member token: pasted, or read from the token file a lead handed over
// (`nic member add` writes one). The token goes only to this hub, in a header.

import { useState } from "preact/hooks";
import { signIn, type Session } from "../session";
import { errorText } from "../api";
import { t } from "../i18n";

/** The sign-in form. */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState("");
  const [remember, setRemember] = useState(false);
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!token.trim()) return setProblem(t("signin.empty"));
    setBusy(true);
    setProblem("");
    try {
      onSignedIn(await signIn(token, remember));
    } catch (err) {
      setProblem(t("signin.refused", { why: errorText(err) }));
    } finally {
      setBusy(false);
    }
  };
  const readFile = async (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (file) setToken((await file.text()).trim());
  };
  return (
    <section class="signin" aria-labelledby="signin-h">
      <h1 id="signin-h">{t("signin.title")}</h1>
      <p>{t("signin.intro")}</p>
      <form onSubmit={submit}>
        <div class="field">
          <label for="token">{t("signin.token")}</label>
          <input id="token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="token-file">{t("signin.file")}</label>
          <input id="token-file" type="file" onChange={readFile} />
        </div>
        <label class="choice">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} /> {t("signin.remember")}
        </label>
        <p class="hint">{t("signin.remember_hint")}</p>
        <button type="submit" disabled={busy}>
          {t("signin.submit")}
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
