import { useState } from 'react';
import { api, type User } from '../api.ts';
import { ErrorAlert, Field, fieldOf, useSubmit } from './ui.tsx';

interface Enrolment {
  otpauthUri: string;
  qrCodeDataUrl: string;
}

/** TOTP enrolment of the signed-in user: a QR code to scan, then a code to prove it works. */
export function TotpEnrolment({ enabled }: { enabled?: boolean }) {
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState('');
  const [done, setDone] = useState(false);
  const start = useSubmit(async () => {
    setDone(false);
    setCode('');
    setEnrolment(await api<Enrolment>('POST', '/api/me/totp'));
  });
  const confirm = useSubmit(async () => {
    await api<User>('POST', '/api/me/totp/confirm', { code });
    setEnrolment(null);
    setDone(true);
  });
  const isOn = done || enabled === true;
  return (
    <div className="totp">
      <p>
        {isOn
          ? 'An authenticator app is enrolled for your account: sign-in asks for its code.'
          : enabled === false
            ? 'No authenticator app is enrolled for your account yet.'
            : 'Enrol an authenticator app for your account: sign-in then asks for its code.'}{' '}
        {done && <strong role="status">Authenticator enrolled.</strong>}
      </p>
      {isOn && !done && (
        <p className="hint">
          To move to another device, ask an administrator to reset it under Users and roles.
        </p>
      )}
      {!enrolment && !isOn && (
        <button
          type="button"
          className="btn btn-secondary"
          onClick={() => void start.run()}
          disabled={start.busy}
        >
          Set up authenticator app
        </button>
      )}
      <ErrorAlert error={start.error} />
      {enrolment && (
        <div className="totp-enrol">
          <img
            className="qr"
            src={enrolment.qrCodeDataUrl}
            alt="QR code to scan with your authenticator app"
            width="200"
            height="200"
          />
          <form className="form-grid" onSubmit={confirm.onSubmit()} noValidate>
            <ol className="steps">
              <li>
                Scan the QR code with an authenticator app (FreeOTP, Aegis, Google or Microsoft
                Authenticator…).
              </li>
              <li>Enter the six-digit code it shows.</li>
            </ol>
            <details>
              <summary>Can't scan? Add the account by its URI</summary>
              <code className="break">{enrolment.otpauthUri}</code>
            </details>
            <Field label="Code from the app" name="code" error={confirm.error}>
              {(p) => (
                <input
                  {...p}
                  className="input-short mono"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  maxLength={6}
                  value={code}
                  onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
                />
              )}
            </Field>
            {fieldOf(confirm.error) !== 'code' && <ErrorAlert error={confirm.error} />}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={confirm.busy}>
                Confirm
              </button>
              <button type="button" className="btn btn-ghost" onClick={() => setEnrolment(null)}>
                Cancel
              </button>
            </div>
          </form>
        </div>
      )}
    </div>
  );
}
