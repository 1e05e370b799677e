/**
 * The security settings: each page reads its setting, edits a copy, and PUTs it whole. The API's
 * message names the bad field, and is shown under that field.
 */
import { useEffect, useState, type ReactNode } from 'react';
import {
  api,
  type AccessLevel,
  type Acl,
  type IpAccess,
  type MfaSetting,
  type PasswordPolicy,
  type User,
} from '../api.ts';
import { useSession } from '../session.tsx';
import {
  ErrorAlert,
  Field,
  Page,
  Saved,
  Section,
  fieldOf,
  isForbidden,
  useLoad,
  useSubmit,
} from '../components/ui.tsx';
import { TotpEnrolment } from '../components/totp.tsx';
import { ADMIN_CRUMB } from './admin-home.tsx';

function useSetting<T>(name: string) {
  const loaded = useLoad<T>(`/api/admin/settings/${name}`);
  const [draft, setDraft] = useState<T>();
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    if (loaded.data !== undefined) setDraft(loaded.data);
  }, [loaded.data]);
  const save = useSubmit(async (value: T) => {
    setSaved(null);
    const stored = await api<T>('PUT', `/api/admin/settings/${name}`, value);
    loaded.setData(stored);
    setSaved('Saved. The change is recorded as a PolicyChange event.');
  });
  return { loaded, draft, setDraft, saved, save };
}

function SettingPage({
  title,
  intro,
  loadError,
  children,
}: {
  title: string;
  intro: string;
  loadError: unknown;
  children: ReactNode;
}) {
  return (
    <Page title={title} crumbs={[ADMIN_CRUMB]} intro={isForbidden(loadError) ? undefined : intro}>
      <ErrorAlert error={loadError} />
      {!isForbidden(loadError) && children}
    </Page>
  );
}

/** A number input that keeps what was typed (even "abc") so the server's message can name it. */
function numberOrText(raw: string): number | string {
  return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
}

export function PasswordPolicyPage() {
  const { loaded, draft, setDraft, saved, save } = useSetting<PasswordPolicy>('password-policy');
  const fields: Array<[keyof PasswordPolicy, string, string]> = [
    [
      'minLength',
      'Minimum password length',
      '8 to 128 characters; applies to new users and password changes.',
    ],
    [
      'lockoutThreshold',
      'Lock out after failed sign-ins',
      'Failed sign-ins in a row, 1 to 100; 0 never locks.',
    ],
    ['lockoutMinutes', 'Lockout duration (minutes)', '1 to 1440 minutes.'],
  ];
  return (
    <SettingPage
      title="Password policy"
      intro="How long passwords must be, and when repeated failures lock an account."
      loadError={loaded.error}
    >
      {draft && (
        <Section title="Policy">
          <form className="form-grid" onSubmit={save.onSubmit(draft)} noValidate>
            {fields.map(([name, label, hint]) => (
              <Field key={name} label={label} name={name} hint={hint} error={save.error}>
                {(p) => (
                  <input
                    {...p}
                    type="number"
                    inputMode="numeric"
                    className="input-short"
                    value={String(draft[name])}
                    onChange={(e) => setDraft({ ...draft, [name]: numberOrText(e.target.value) as number })}
                  />
                )}
              </Field>
            ))}
            {!fieldOf(save.error) && <ErrorAlert error={save.error} />}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={save.busy}>
                Save policy
              </button>
              <Saved text={saved} />
            </div>
          </form>
        </Section>
      )}
    </SettingPage>
  );
}

export function MfaPage() {
  const { loaded, draft, setDraft, saved, save } = useSetting<MfaSetting>('mfa');
  const { me } = useSession();
  const users = useLoad<User[]>('/api/admin/users');
  const enrolled = users.data?.find((u) => u.id === me.id)?.totpEnabled;
  const options: Array<[MfaSetting['mode'], string, string]> = [
    [
      'optional',
      'Optional',
      'Users who enrolled an authenticator are asked for its code; others sign in with a password.',
    ],
    ['required', 'Required', 'Every sign-in needs an authenticator code; users without one cannot sign in.'],
  ];
  return (
    <SettingPage
      title="MFA"
      intro="Time-based one-time codes (TOTP) from an authenticator app."
      loadError={loaded.error}
    >
      {draft && (
        <Section title="Sign-in requirement">
          <form onSubmit={save.onSubmit(draft)} noValidate>
            <fieldset className={`radio-group${fieldOf(save.error) === 'mode' ? ' field-bad' : ''}`}>
              <legend>Authenticator code at sign-in</legend>
              {options.map(([mode, label, hint]) => (
                <label key={mode} className="radio">
                  <input
                    type="radio"
                    name="mode"
                    value={mode}
                    checked={draft.mode === mode}
                    onChange={() => setDraft({ mode })}
                  />
                  <span>
                    <strong>{label}</strong>
                    <span className="hint">{hint}</span>
                  </span>
                </label>
              ))}
            </fieldset>
            <ErrorAlert error={save.error} />
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={save.busy}>
                Save MFA setting
              </button>
              <Saved text={saved} />
            </div>
          </form>
        </Section>
      )}
      {draft && (
        <Section title="Your authenticator">
          <TotpEnrolment enabled={enrolled} />
        </Section>
      )}
    </SettingPage>
  );
}

const RESOURCES: Array<[keyof Acl['member'], string]> = [
  ['companies', 'Companies'],
  ['documents', 'Documents'],
  ['passwords', 'Credentials'],
];
const LEVELS: Array<[AccessLevel, string]> = [
  ['none', 'None'],
  ['read', 'Read'],
  ['write', 'Read and create'],
];

export function AclPage() {
  const { loaded, draft, setDraft, saved, save } = useSetting<Acl>('acl');
  return (
    <SettingPage
      title="Global ACL"
      intro="What members may do. Administrators may do everything. A refusal is recorded as Access.Denied."
      loadError={loaded.error}
    >
      {draft && (
        <Section title="Members may">
          <form className="form-grid" onSubmit={save.onSubmit(draft)} noValidate>
            {RESOURCES.map(([res, label]) => (
              <Field key={res} label={`${label}`} name={`member.${res}`} error={save.error}>
                {(p) => (
                  <select
                    {...p}
                    className="input-short"
                    value={draft.member[res]}
                    onChange={(e) =>
                      setDraft({ member: { ...draft.member, [res]: e.target.value as AccessLevel } })
                    }
                  >
                    {LEVELS.map(([v, l]) => (
                      <option key={v} value={v}>
                        {l}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            ))}
            <ErrorAlert error={save.error} />
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={save.busy}>
                Save ACL
              </button>
              <Saved text={saved} />
            </div>
          </form>
        </Section>
      )}
    </SettingPage>
  );
}

const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

export function IpAccessPage() {
  const { loaded, saved, save } = useSetting<IpAccess>('ip-access');
  const [allow, setAllow] = useState('');
  const [block, setBlock] = useState('');
  useEffect(() => {
    if (!loaded.data) return;
    setAllow(loaded.data.allow.join('\n'));
    setBlock(loaded.data.block.join('\n'));
  }, [loaded.data]);
  return (
    <SettingPage
      title="IP allow/block lists"
      intro="Checked first on every API request, the SIEM feed included. A refused address is recorded as Access.Denied."
      loadError={loaded.error}
    >
      {loaded.data && (
        <Section title="Addresses">
          <form
            className="form-grid form-grid-2"
            onSubmit={(e) => {
              e.preventDefault();
              void save.run({ allow: lines(allow), block: lines(block) });
            }}
            noValidate
          >
            <Field
              label="Allowed addresses"
              name="allow"
              hint="One IPv4/IPv6 address or CIDR a line. Empty: every address may use the portal."
              error={save.error}
            >
              {(p) => (
                <textarea
                  {...p}
                  className="mono"
                  rows={6}
                  spellCheck={false}
                  value={allow}
                  onChange={(e) => setAllow(e.target.value)}
                />
              )}
            </Field>
            <Field
              label="Blocked addresses"
              name="block"
              hint="Always refused, even when also allowed."
              error={save.error}
            >
              {(p) => (
                <textarea
                  {...p}
                  className="mono"
                  rows={6}
                  spellCheck={false}
                  value={block}
                  onChange={(e) => setBlock(e.target.value)}
                />
              )}
            </Field>
            {!['allow', 'block'].includes(fieldOf(save.error) ?? '') && <ErrorAlert error={save.error} />}
            <div className="form-actions span-all">
              <button type="submit" className="btn btn-primary" disabled={save.busy}>
                Save lists
              </button>
              <Saved text={saved} />
            </div>
          </form>
        </Section>
      )}
    </SettingPage>
  );
}
