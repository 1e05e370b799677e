/** `itportal serve` (and `npm start`): migrate, make sure a first admin exists, listen. */
import { buildApp } from '../app.js';
import { openMigrated } from './shared.js';

export async function serve(): Promise<number> {
  const { config, database, defaultTenantId } = await openMigrated();
  const { app, ctx } = await buildApp({ config, database });
  const admin = await ctx.users.ensureFirstAdmin(defaultTenantId, config.adminUsername, config.adminPassword);
  // A promise rejected with nobody listening is a bug, but ending the process for it would drop every
  // request in flight and stall every SIEM: log it and keep serving.
  process.on('unhandledRejection', (reason) => {
    app.log.error(
      // Type and code only: a driver's message can quote row values.
      {
        err: {
          type: reason instanceof Error ? reason.name : typeof reason,
          code: (reason as { code?: unknown })?.code,
        },
      },
      'unhandled promise rejection (kept serving)',
    );
  });
  // Printed to the terminal once, never to the log stream.
  const adminLines = admin
    ? [
        `First admin created: username "${admin.username}"`,
        ...(admin.generated ? [`  generated password (shown once, change it): ${admin.password}`] : []),
        ...(admin.belowPolicy !== null
          ? [
              `  WARNING: ADMIN_PASSWORD is shorter than the password policy's ${admin.belowPolicy} characters; sign in and change it`,
            ]
          : []),
      ]
    : [];
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    // The first admin exists from now on: a start that fails here (the port is taken) must still show
    // its generated password, or no later start ever would.
    if (adminLines.length > 0) process.stdout.write(`\n${adminLines.join('\n')}\n\n`);
    await app.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
  // The address it really listens on (the socket's, with the port the OS gave for PORT=0; Fastify's
  // return value names one interface of several); on every interface, also where to open it here.
  const bound = app.server.address();
  const host = typeof bound === 'object' && bound ? bound.address : config.host;
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  const everywhere = host === '0.0.0.0' || host === '::';
  const listening = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const local = `http://localhost:${port}`;
  const lines = [
    `IT Portal is listening on ${listening}${everywhere ? ` (every interface; open ${local})` : ''} (store: ${database.location})`,
    ...adminLines,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
  const stop = async () => {
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  return new Promise<number>(() => undefined);
}
