import { useRef, useState, type KeyboardEvent } from 'react';
import type { Acl, IpAccess, MfaSetting, PasswordPolicy, SiemKey, User } from '../api.ts';
import { ErrorAlert, Page, isForbidden, useLoad } from '../components/ui.tsx';
import { Link } from '../router.tsx';

export const ADMIN_CRUMB = { to: '/admin', label: 'Admin Settings' };

function Tile({ to, title, text, status }: { to: string; title: string; text: string; status?: string }) {
  return (
    <li>
      <Link to={to} className="tile">
        <span className="tile-title">{title}</span>
        <span className="tile-text">{text}</span>
        {status && <span className="tile-status">{status}</span>}
      </Link>
    </li>
  );
}

const LEVEL_TEXT = { none: 'none', read: 'read', write: 'read and create' } as const;

/** "Members: companies read, documents read and create, credentials none". */
export function aclStatus(acl: Acl): string {
  const m = acl.member;
  return `Members: companies ${LEVEL_TEXT[m.companies]}, documents ${LEVEL_TEXT[m.documents]}, credentials ${LEVEL_TEXT[m.passwords]}`;
}

/** "Any address; none blocked" or "2 allowed, 1 blocked". */
export function ipStatus(ip: IpAccess): string {
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  const allowed = ip.allow.length === 0 ? 'Any address' : `${n(ip.allow.length, 'range')} allowed`;
  return `${allowed}; ${ip.block.length === 0 ? 'none blocked' : `${n(ip.block.length, 'range')} blocked`}`;
}

export function AdminSettingsPage() {
  const mfa = useLoad<MfaSetting>('/api/admin/settings/mfa');
  const policy = useLoad<PasswordPolicy>('/api/admin/settings/password-policy');
  const users = useLoad<User[]>('/api/admin/users');
  const keys = useLoad<SiemKey[]>('/api/admin/siem/keys');
  const acl = useLoad<Acl>('/api/admin/settings/acl');
  const ip = useLoad<IpAccess>('/api/admin/settings/ip-access');
  if (isForbidden(mfa.error)) {
    return (
      <Page title="Admin Settings">
        <ErrorAlert error={mfa.error} />
      </Page>
    );
  }
  const active = keys.data?.filter((k) => k.status === 'active').length;
  return (
    <Page
      title="Admin Settings"
      intro={
        <>
          Security settings of this portal. Changes to the password policy, MFA, the global ACL, the IP lists
          and SIEM keys are recorded as <strong>PolicyChange</strong> events (critical for a SIEM key issued
          or revoked, and for MFA made optional); creating users, changing roles and unlocking accounts are
          recorded as <strong>AdminAction</strong> events.
        </>
      }
    >
      <ErrorAlert error={mfa.error ?? policy.error ?? users.error ?? keys.error ?? acl.error ?? ip.error} />
      <ul className="tiles">
        <Tile
          to="/admin/integrations"
          title="Integrations"
          text="Stream the audit trail to your SIEM."
          status={active === undefined ? undefined : `${active} active SIEM key${active === 1 ? '' : 's'}`}
        />
        <Tile
          to="/admin/users"
          title="Users and roles"
          text="Create users, change roles, unlock accounts."
          status={users.data ? `${users.data.length} user${users.data.length === 1 ? '' : 's'}` : undefined}
        />
        <Tile
          to="/admin/password-policy"
          title="Password policy"
          text="Minimum length and lockout after failed sign-ins."
          status={policy.data ? `At least ${policy.data.minLength} characters` : undefined}
        />
        <Tile
          to="/admin/mfa"
          title="MFA"
          text="Require an authenticator code at sign-in; enrol yours."
          status={mfa.data ? `TOTP ${mfa.data.mode}` : undefined}
        />
        <Tile
          to="/admin/acl"
          title="Global ACL"
          text="What members may do with companies, documents and credentials."
          status={acl.data ? aclStatus(acl.data) : undefined}
        />
        <Tile
          to="/admin/ip-access"
          title="IP allow/block lists"
          text="Addresses allowed to use the portal, and those refused."
          status={ip.data ? ipStatus(ip.data) : undefined}
        />
        <Tile
          to="/admin/events"
          title="Audit events"
          text="Browse, filter and inspect the normalized events."
        />
      </ul>
    </Page>
  );
}

const TABS = [{ id: 'data', label: 'Data' }] as const;

export function IntegrationsPage() {
  const keys = useLoad<SiemKey[]>('/api/admin/siem/keys');
  const [tab, setTab] = useState<(typeof TABS)[number]['id']>('data');
  const tabRefs = useRef<Array<HTMLButtonElement | null>>([]);
  const onKeyDown = (e: KeyboardEvent, i: number) => {
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : null;
    if (next === null) return;
    const j = (next + TABS.length) % TABS.length;
    setTab(TABS[j]!.id);
    tabRefs.current[j]?.focus();
  };
  if (isForbidden(keys.error)) {
    return (
      <Page title="Integrations" crumbs={[ADMIN_CRUMB]}>
        <ErrorAlert error={keys.error} />
      </Page>
    );
  }
  const active = keys.data?.filter((k) => k.status === 'active').length ?? 0;
  return (
    <Page title="Integrations" crumbs={[ADMIN_CRUMB]}>
      <ErrorAlert error={keys.error} />
      <div className="tabs" role="tablist" aria-label="Integration kinds">
        {TABS.map((t, i) => (
          <button
            key={t.id}
            ref={(el) => {
              tabRefs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
            onKeyDown={(e) => onKeyDown(e, i)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="panel-data" aria-labelledby="tab-data" hidden={tab !== 'data'}>
        <p className="intro">Where the portal's data goes.</p>
        <ul className="tiles">
          <Tile
            to="/admin/integrations/siem"
            title="SIEM"
            text="Splunk, Microsoft Sentinel, Elastic, Wazuh or QRadar poll the audit trail with an API key."
            status={keys.data ? `${active} active key${active === 1 ? '' : 's'}` : undefined}
          />
        </ul>
      </div>
    </Page>
  );
}
