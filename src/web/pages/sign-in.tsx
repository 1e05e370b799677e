import { useEffect, useRef, useState } from 'react';
import { api, type Me } from '../api.ts';
import { ErrorAlert, Field, useSubmit } from '../components/ui.tsx';

/**
 * Sign-in: username and password; the authenticator code field appears when the server says the
 * account needs one (its message starts with `totp:`), so that users without TOTP never see it.
 */
export function SignInPage({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const { busy, error, onSubmit } = useSubmit(async () => {
    try {
      const me = await api<Me>('POST', '/api/auth/login', {
        username,
        password,
        ...(needTotp && totp ? { totp } : {}),
      });
      onSignedIn(me);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('totp:')) setNeedTotp(true);
      throw e;
    }
  });
  useEffect(() => {
    document.title = 'Sign in · IT Portal';
  }, []);
  useEffect(() => {
    if (needTotp) totpRef.current?.focus();
  }, [needTotp]);

  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <div className="signin-brand">
          <img src="/favicon.svg" alt="" width="36" height="36" />
          <span>IT Portal</span>
        </div>
        <h1 ref={heading}>Sign in</h1>
        <form onSubmit={onSubmit()} noValidate>
          <Field label="Username" name="username" error={error}>
            {(p) => (
              <input
                {...p}
                autoComplete="username"
                autoCapitalize="none"
                spellCheck={false}
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                autoFocus
              />
            )}
          </Field>
          <Field label="Password" name="password" error={error}>
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          {needTotp && (
            <Field
              label="Authenticator code"
              name="totp"
              hint="The six-digit code from your authenticator app."
              error={error}
            >
              {(p) => (
                <input
                  {...p}
                  ref={totpRef}
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  pattern="[0-9]{6}"
                  maxLength={6}
                  value={totp}
                  onChange={(e) => setTotp(e.target.value.replace(/\D/g, ''))}
                />
              )}
            </Field>
          )}
          <ErrorAlert error={error} />
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <aside className="first-run" aria-label="First run">
          <strong>First time here?</strong> Sign in as <code>admin</code> with the password printed by{' '}
          <code>npm start</code> on its first start (or the <code>ADMIN_PASSWORD</code> you set). Change it
          under My account.
        </aside>
      </div>
    </main>
  );
}
