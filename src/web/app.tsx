/**
 * The app shell: who is signed in (GET /api/me, or the sign-in page), the header and navigation
 * (collapsed behind a Menu button on narrow screens), and the page for the current path.
 */
import { useEffect, useState, type ReactElement } from 'react';
import { api, onUnauthenticated, setCsrfToken, signedInHint, type Me } from './api.ts';
import { Link, match, navigate, useLocation } from './router.tsx';
import { SessionContext } from './session.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import {
  CompaniesPage,
  CompanyPage,
  CredentialsPage,
  DocumentPage,
  DocumentsPage,
} from './pages/resources.tsx';
import { AdminSettingsPage, IntegrationsPage } from './pages/admin-home.tsx';
import { SiemKeyPage, SiemPage } from './pages/siem.tsx';
import { AclPage, IpAccessPage, MfaPage, PasswordPolicyPage } from './pages/settings.tsx';
import { UsersPage } from './pages/users.tsx';
import { AccountPage } from './pages/account.tsx';
import { EventsPage } from './pages/events.tsx';
import { Page } from './components/ui.tsx';

type State = { status: 'loading' } | { status: 'signed-out' } | { status: 'signed-in'; me: Me };

const ROUTES: Array<[string, (p: Record<string, string>) => ReactElement]> = [
  ['/companies', () => <CompaniesPage />],
  ['/companies/:id', (p) => <CompanyPage id={p.id!} />],
  ['/documents', () => <DocumentsPage />],
  ['/documents/:id', (p) => <DocumentPage id={p.id!} />],
  ['/credentials', () => <CredentialsPage />],
  ['/account', () => <AccountPage />],
  ['/admin', () => <AdminSettingsPage />],
  ['/admin/integrations', () => <IntegrationsPage />],
  ['/admin/integrations/siem', () => <SiemPage />],
  ['/admin/integrations/siem/keys/:id', (p) => <SiemKeyPage id={p.id!} />],
  ['/admin/password-policy', () => <PasswordPolicyPage />],
  ['/admin/mfa', () => <MfaPage />],
  ['/admin/acl', () => <AclPage />],
  ['/admin/ip-access', () => <IpAccessPage />],
  ['/admin/users', () => <UsersPage />],
  ['/admin/events', () => <EventsPage />],
];

function route(path: string): ReactElement {
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, path);
    if (params) return render(params);
  }
  return (
    <Page title="Page not found">
      <p>
        There is no page at <code>{path}</code>. <Link to="/companies">Go to companies</Link>.
      </p>
    </Page>
  );
}

export function App() {
  const [state, setState] = useState<State>(() =>
    signedInHint.get() ? { status: 'loading' } : { status: 'signed-out' },
  );
  const { path } = useLocation();

  useEffect(() => {
    onUnauthenticated(() => {
      setCsrfToken(null);
      setState({ status: 'signed-out' });
    });
    if (!signedInHint.get()) return;
    api<Me>('GET', '/api/me').then(
      (me) => {
        setCsrfToken(me.csrfToken);
        setState({ status: 'signed-in', me });
      },
      () => setState({ status: 'signed-out' }),
    );
  }, []);

  useEffect(() => {
    if (state.status === 'signed-in' && (path === '/' || path === '/sign-in')) {
      navigate('/companies', { replace: true });
    }
  }, [state.status, path]);

  if (state.status === 'loading') {
    return (
      <p className="loading-screen" role="status">
        Loading…
      </p>
    );
  }
  if (state.status === 'signed-out') {
    return (
      <SignInPage
        onSignedIn={(me) => {
          setCsrfToken(me.csrfToken);
          signedInHint.set(true);
          setState({ status: 'signed-in', me });
        }}
      />
    );
  }

  const signOut = async () => {
    try {
      await api('POST', '/api/auth/logout');
    } finally {
      signedInHint.set(false);
      setCsrfToken(null);
      setState({ status: 'signed-out' });
      navigate('/sign-in');
    }
  };
  return (
    <SessionContext.Provider value={{ me: state.me, signOut }}>
      <Shell me={state.me} path={path} signOut={signOut}>
        {route(path === '/' || path === '/sign-in' ? '/companies' : path)}
      </Shell>
    </SessionContext.Provider>
  );
}

function NavLink({ to, label, path, exact }: { to: string; label: string; path: string; exact?: boolean }) {
  const active = exact ? path === to : path === to || path.startsWith(`${to}/`);
  return (
    <li>
      <Link to={to} aria-current={active ? 'page' : undefined}>
        {label}
      </Link>
    </li>
  );
}

function Shell({
  me,
  path,
  signOut,
  children,
}: {
  me: Me;
  path: string;
  signOut: () => Promise<void>;
  children: ReactElement;
}) {
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  const adminSettingsActive = path.startsWith('/admin') && !path.startsWith('/admin/events') ? '/admin' : '';
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="sidenav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <Link to="/companies" className="brand">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>IT Portal</span>
        </Link>
        <div className="topbar-user">
          <span className="who">
            <span className="who-name">{me.username}</span>
            <span className={`role role-${me.role}`}>{me.role}</span>
          </span>
          <button type="button" className="btn btn-ghost" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="body">
        <nav id="sidenav" className={`sidenav${menuOpen ? ' open' : ''}`} aria-label="Main">
          <h2 className="nav-group">Portal</h2>
          <ul>
            <NavLink to="/companies" label="Companies" path={path} />
            <NavLink to="/documents" label="Documents" path={path} />
            <NavLink to="/credentials" label="Credentials" path={path} />
            <NavLink to="/account" label="My account" path={path} />
          </ul>
          {me.role === 'admin' && (
            <>
              <h2 className="nav-group">Administration</h2>
              <ul>
                <NavLink to="/admin" label="Admin Settings" path={adminSettingsActive} />
                <NavLink to="/admin/events" label="Audit events" path={path} />
              </ul>
            </>
          )}
        </nav>
        <main id="main" className="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
