/**
 * Companies, documents and credentials. Lists never carry a secret; opening a company or document,
 * and revealing a credential, are reads the portal records as Access.Object.
 */
import { useState } from 'react';
import {
  api,
  type Company,
  type Credential,
  type DocumentFull,
  type DocumentSummary,
  type RevealedCredential,
} from '../api.ts';
import {
  CopyButton,
  Empty,
  ErrorAlert,
  Field,
  Page,
  Section,
  Time,
  fieldOf,
  useLoad,
  useSubmit,
} from '../components/ui.tsx';
import { Link } from '../router.tsx';

function useCompanyNames() {
  const companies = useLoad<Company[]>('/api/companies');
  const name = (id: number) => companies.data?.find((c) => c.id === id)?.name ?? `#${id}`;
  return { companies, name };
}

function CompanySelect({
  error,
  value,
  onChange,
}: {
  error: unknown;
  value: string;
  onChange: (v: string) => void;
}) {
  const { companies } = useCompanyNames();
  return (
    <Field label="Company" name="companyId" error={error}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">Choose a company…</option>
          {companies.data?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function CompaniesPage() {
  const companies = useLoad<Company[]>('/api/companies');
  const [name, setName] = useState('');
  const create = useSubmit(async () => {
    await api<Company>('POST', '/api/companies', { name });
    setName('');
    await companies.reload();
  });
  return (
    <Page title="Companies" intro="The companies whose IT you document.">
      <Section title="All companies">
        <ErrorAlert error={companies.error} />
        {companies.data?.length === 0 && <Empty>No companies yet.</Empty>}
        {companies.data && companies.data.length > 0 && (
          <div className="table-wrap">
            <table className="table responsive">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {companies.data.map((c) => (
                  <tr key={c.id}>
                    <td data-label="Name">
                      <Link to={`/companies/${c.id}`}>{c.name}</Link>
                    </td>
                    <td data-label="Created">
                      <Time iso={c.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="New company">
        <form className="form-inline" onSubmit={create.onSubmit()} noValidate>
          <Field label="Name" name="name" error={create.error}>
            {(p) => <input {...p} maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <button type="submit" className="btn btn-primary" disabled={create.busy}>
            Create company
          </button>
        </form>
        {!fieldOf(create.error) && <ErrorAlert error={create.error} />}
      </Section>
    </Page>
  );
}

export function CompanyPage({ id }: { id: string }) {
  const company = useLoad<Company>(`/api/companies/${encodeURIComponent(id)}`);
  const documents = useLoad<DocumentSummary[]>('/api/documents');
  const credentials = useLoad<Credential[]>('/api/passwords');
  const docs = documents.data?.filter((d) => String(d.companyId) === id) ?? [];
  const creds = credentials.data?.filter((c) => String(c.companyId) === id) ?? [];
  return (
    <Page title={company.data?.name ?? 'Company'} crumbs={[{ to: '/companies', label: 'Companies' }]}>
      <ErrorAlert error={company.error} />
      {company.data && (
        <>
          <p className="muted">
            Created <Time iso={company.data.createdAt} />
          </p>
          <Section title="Documents">
            {docs.length === 0 ? (
              <Empty>No documents for this company.</Empty>
            ) : (
              <ul className="link-list">
                {docs.map((d) => (
                  <li key={d.id}>
                    <Link to={`/documents/${d.id}`}>{d.title}</Link>
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <Section title="Credentials">
            {creds.length === 0 ? (
              <Empty>No credentials for this company.</Empty>
            ) : (
              <CredentialTable rows={creds} companyName={() => company.data!.name} />
            )}
          </Section>
        </>
      )}
    </Page>
  );
}

export function DocumentsPage() {
  const documents = useLoad<DocumentSummary[]>('/api/documents');
  const { name: companyName } = useCompanyNames();
  const [companyId, setCompanyId] = useState('');
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const create = useSubmit(async () => {
    await api<DocumentFull>('POST', '/api/documents', {
      companyId: companyId === '' ? companyId : Number(companyId),
      title,
      body,
    });
    setTitle('');
    setBody('');
    await documents.reload();
  });
  return (
    <Page title="Documents" intro="Runbooks, network diagrams, procedures.">
      <Section title="All documents">
        <ErrorAlert error={documents.error} />
        {documents.data?.length === 0 && <Empty>No documents yet.</Empty>}
        {documents.data && documents.data.length > 0 && (
          <div className="table-wrap">
            <table className="table responsive">
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Company</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {documents.data.map((d) => (
                  <tr key={d.id}>
                    <td data-label="Title">
                      <Link to={`/documents/${d.id}`}>{d.title}</Link>
                    </td>
                    <td data-label="Company">{companyName(d.companyId)}</td>
                    <td data-label="Created">
                      <Time iso={d.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="New document">
        <form className="form-grid" onSubmit={create.onSubmit()} noValidate>
          <CompanySelect error={create.error} value={companyId} onChange={setCompanyId} />
          <Field label="Title" name="title" error={create.error}>
            {(p) => <input {...p} maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />}
          </Field>
          <Field label="Text" name="body" error={create.error}>
            {(p) => <textarea {...p} rows={6} value={body} onChange={(e) => setBody(e.target.value)} />}
          </Field>
          {!fieldOf(create.error) && <ErrorAlert error={create.error} />}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={create.busy}>
              Create document
            </button>
          </div>
        </form>
      </Section>
    </Page>
  );
}

export function DocumentPage({ id }: { id: string }) {
  const doc = useLoad<DocumentFull>(`/api/documents/${encodeURIComponent(id)}`);
  const { name: companyName } = useCompanyNames();
  return (
    <Page title={doc.data?.title ?? 'Document'} crumbs={[{ to: '/documents', label: 'Documents' }]}>
      <ErrorAlert error={doc.error} />
      {doc.data && (
        <>
          <p className="muted">
            <Link to={`/companies/${doc.data.companyId}`}>{companyName(doc.data.companyId)}</Link> · created{' '}
            <Time iso={doc.data.createdAt} />
          </p>
          <article className="card doc-body">
            {doc.data.body || <span className="muted">(empty)</span>}
          </article>
        </>
      )}
    </Page>
  );
}

function CredentialTable({ rows, companyName }: { rows: Credential[]; companyName: (id: number) => string }) {
  const [revealed, setRevealed] = useState<Record<number, string>>({});
  const [error, setError] = useState<unknown>(null);
  const reveal = async (c: Credential) => {
    setError(null);
    try {
      const r = await api<RevealedCredential>('GET', `/api/passwords/${c.id}`);
      setRevealed((m) => ({ ...m, [c.id]: r.password }));
    } catch (e) {
      setError(e);
    }
  };
  const hide = (id: number) =>
    setRevealed((m) => {
      const next = { ...m };
      delete next[id];
      return next;
    });
  return (
    <>
      <ErrorAlert error={error} />
      <div className="table-wrap">
        <table className="table responsive">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Company</th>
              <th scope="col">Username</th>
              <th scope="col">Password</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id}>
                <td data-label="Name">
                  {c.name}
                  {c.url && <span className="sub break">{c.url}</span>}
                </td>
                <td data-label="Company">{companyName(c.companyId)}</td>
                <td data-label="Username">
                  <code>{c.username}</code>
                </td>
                <td data-label="Password" className="actions">
                  {revealed[c.id] === undefined ? (
                    <button
                      type="button"
                      className="btn btn-secondary btn-small"
                      onClick={() => void reveal(c)}
                    >
                      Reveal<span className="visually-hidden"> the password of {c.name}</span>
                    </button>
                  ) : (
                    <>
                      <code className="secret" aria-label={`Password of ${c.name}`}>
                        {revealed[c.id]}
                      </code>
                      <CopyButton text={revealed[c.id]!} label="Copy" />
                      <button type="button" className="btn btn-ghost btn-small" onClick={() => hide(c.id)}>
                        Hide
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">
        Revealing a password is recorded (Access.Object, warning) with your name and address.
      </p>
    </>
  );
}

export function CredentialsPage() {
  const credentials = useLoad<Credential[]>('/api/passwords');
  const { name: companyName } = useCompanyNames();
  const [companyId, setCompanyId] = useState('');
  const [name, setName] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [url, setUrl] = useState('');
  const create = useSubmit(async () => {
    await api<Credential>('POST', '/api/passwords', {
      companyId: companyId === '' ? companyId : Number(companyId),
      name,
      username,
      password,
      ...(url ? { url } : {}),
    });
    setName('');
    setUsername('');
    setPassword('');
    setUrl('');
    await credentials.reload();
  });
  return (
    <Page
      title="Credentials"
      intro="Stored credentials, encrypted at rest. A secret is shown only when you reveal it."
    >
      <Section title="All credentials">
        <ErrorAlert error={credentials.error} />
        {credentials.data?.length === 0 && <Empty>No credentials yet.</Empty>}
        {credentials.data && credentials.data.length > 0 && (
          <CredentialTable rows={credentials.data} companyName={companyName} />
        )}
      </Section>
      <Section title="Store a credential">
        <form className="form-grid form-grid-2" onSubmit={create.onSubmit()} noValidate>
          <CompanySelect error={create.error} value={companyId} onChange={setCompanyId} />
          <Field label="Name" name="name" hint="What it is for, e.g. “Firewall admin”." error={create.error}>
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Username" name="username" error={create.error}>
            {(p) => (
              <input
                {...p}
                autoComplete="off"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            )}
          </Field>
          <Field label="Password" name="password" error={create.error}>
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          <Field label="URL (optional)" name="url" error={create.error}>
            {(p) => <input {...p} type="url" value={url} onChange={(e) => setUrl(e.target.value)} />}
          </Field>
          {!fieldOf(create.error) && <ErrorAlert error={create.error} />}
          <div className="form-actions span-all">
            <button type="submit" className="btn btn-primary" disabled={create.busy}>
              Store credential
            </button>
          </div>
        </form>
      </Section>
    </Page>
  );
}
