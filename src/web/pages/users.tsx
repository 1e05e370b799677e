import { useState } from 'react';
import { api, type User } from '../api.ts';
import {
  Badge,
  Empty,
  ErrorAlert,
  Field,
  Page,
  Saved,
  Section,
  Time,
  fieldOf,
  isForbidden,
  useLoad,
  useSubmit,
} from '../components/ui.tsx';
import { useSession } from '../session.tsx';
import { ADMIN_CRUMB } from './admin-home.tsx';

export function UsersPage() {
  const { me } = useSession();
  const users = useLoad<User[]>('/api/admin/users');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'admin' | 'member'>('member');
  const [saved, setSaved] = useState<string | null>(null);
  const create = useSubmit(async () => {
    setSaved(null);
    const u = await api<User>('POST', '/api/admin/users', { username, password, role });
    setUsername('');
    setPassword('');
    setSaved(`User ${u.username} created.`);
    await users.reload();
  });
  const update = useSubmit(async (u: User, change: Record<string, unknown>, done: string) => {
    setSaved(null);
    await api<User>('PATCH', `/api/admin/users/${u.id}`, change);
    setSaved(done);
    await users.reload();
  });

  if (isForbidden(users.error)) {
    return (
      <Page title="Users and roles" crumbs={[ADMIN_CRUMB]}>
        <ErrorAlert error={users.error} />
      </Page>
    );
  }
  return (
    <Page
      title="Users and roles"
      crumbs={[ADMIN_CRUMB]}
      intro="Administrators manage settings and SIEM keys; members use the portal within the global ACL."
    >
      <Section title="Users">
        <ErrorAlert error={users.error ?? update.error} />
        <Saved text={saved} />
        {users.data?.length === 0 && <Empty>No users.</Empty>}
        {users.data && users.data.length > 0 && (
          <div className="table-wrap">
            <table className="table responsive">
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col">Authenticator</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.data.map((u) => (
                  <tr key={u.id}>
                    <td data-label="Username">
                      {u.username}
                      {u.id === me.id && <span className="sub">you</span>}
                      {u.lockedUntil && (
                        <span className="sub">
                          <Badge tone="warning">locked</Badge> until <Time iso={u.lockedUntil} />
                        </span>
                      )}
                    </td>
                    <td data-label="Role">
                      <span className={`role role-${u.role}`}>{u.role}</span>
                    </td>
                    <td data-label="Authenticator">
                      {u.totpEnabled ? 'enrolled' : <span className="muted">none</span>}
                    </td>
                    <td data-label="Created">
                      <Time iso={u.createdAt} />
                    </td>
                    <td data-label="Actions" className="actions">
                      <button
                        type="button"
                        className="btn btn-secondary btn-small"
                        disabled={update.busy}
                        onClick={() =>
                          void update.run(
                            u,
                            { role: u.role === 'admin' ? 'member' : 'admin' },
                            `${u.username} is now ${u.role === 'admin' ? 'a member' : 'an administrator'}.`,
                          )
                        }
                      >
                        {u.role === 'admin' ? 'Make member' : 'Make admin'}
                        <span className="visually-hidden"> {u.username}</span>
                      </button>
                      {u.lockedUntil && (
                        <button
                          type="button"
                          className="btn btn-secondary btn-small"
                          onClick={() => void update.run(u, { unlock: true }, `${u.username} unlocked.`)}
                        >
                          Unlock<span className="visually-hidden"> {u.username}</span>
                        </button>
                      )}
                      {u.totpEnabled && (
                        <button
                          type="button"
                          className="btn btn-secondary btn-small"
                          onClick={() =>
                            void update.run(u, { resetTotp: true }, `${u.username}'s authenticator removed.`)
                          }
                        >
                          Reset MFA<span className="visually-hidden"> of {u.username}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Create a user">
        <form className="form-grid" onSubmit={create.onSubmit()} noValidate>
          <Field label="Username" name="username" hint="Letters, digits and . _ @ -" error={create.error}>
            {(p) => (
              <input
                {...p}
                autoComplete="off"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Initial password"
            name="password"
            hint="At least the password policy's minimum length."
            error={create.error}
          >
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
          <Field label="Role" name="role" error={create.error}>
            {(p) => (
              <select
                {...p}
                className="input-short"
                value={role}
                onChange={(e) => setRole(e.target.value as 'admin' | 'member')}
              >
                <option value="member">Member</option>
                <option value="admin">Administrator</option>
              </select>
            )}
          </Field>
          {!fieldOf(create.error) && <ErrorAlert error={create.error} />}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={create.busy}>
              Create user
            </button>
          </div>
        </form>
      </Section>
    </Page>
  );
}
