import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorAlert, Field, Page, Saved, Section, fieldOf, useSubmit } from '../components/ui.tsx';
import { TotpEnrolment } from '../components/totp.tsx';
import { useSession } from '../session.tsx';

export function AccountPage() {
  const { me } = useSession();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const change = useSubmit(async () => {
    setSaved(null);
    await api('POST', '/api/me/password', { currentPassword, newPassword });
    setCurrent('');
    setNew('');
    setSaved('Password changed.');
  });
  return (
    <Page title="My account" intro={`Signed in as ${me.username} (${me.role}).`}>
      <Section title="Change password">
        <form className="form-grid" onSubmit={change.onSubmit()} noValidate>
          <Field label="Current password" name="currentPassword" error={change.error}>
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="current-password"
                value={currentPassword}
                onChange={(e) => setCurrent(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="New password"
            name="newPassword"
            hint="At least the password policy's minimum length."
            error={change.error}
          >
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="new-password"
                value={newPassword}
                onChange={(e) => setNew(e.target.value)}
              />
            )}
          </Field>
          {!fieldOf(change.error) && <ErrorAlert error={change.error} />}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={change.busy}>
              Change password
            </button>
            <Saved text={saved} />
          </div>
        </form>
      </Section>
      <Section title="Authenticator app (TOTP)">
        <TotpEnrolment />
      </Section>
    </Page>
  );
}
