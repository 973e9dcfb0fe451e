import { useState } from "preact/hooks";
import { Dashboard } from "./dashboard.tsx";
import { session } from "./session.ts";
import { SignIn } from "./sign-in.tsx";

// Signed out: the sign-in form (with why, after a refused token). Signed in: the dashboard, which
// signs out by itself when the coordinator answers 401.
export function App() {
  const [token, setToken] = useState<string | null>(() => session.load());
  const [notice, setNotice] = useState<string | null>(null);
  if (token === null)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          session.save(t);
          setNotice(null);
          setToken(t);
        }}
      />
    );
  return (
    <Dashboard
      token={token}
      onSignOut={(why) => {
        session.clear();
        setNotice(why);
        setToken(null);
      }}
    />
  );
}
