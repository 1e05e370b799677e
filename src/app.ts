/**
 * Builds the Fastify app from a config and an open database. No side effects on import; main.ts
 * (and the tests) decide when to migrate and listen.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import compress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { AppContext, Clock } from './app-context.js';
import { systemClock } from './app-context.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/connect.js';
import { SEQUENCER_APPLICATION_NAME } from './db/dialect.js';
import { ensureDataKeyMatches, loadServerSecret } from './db/server-secrets.js';
import { clientErrorHandler, frameworkErrors, installErrorHandler } from './http/error-handler.js';
import { ipInCidrs } from './http/ip.js';
import { hoistErrorBody, openapiTransform } from './http/openapi.js';
import { redactSecrets } from './http/redact.js';
import { installRequestContext } from './http/request-context.js';
import { installTextRules } from './http/text-rules.js';
import { createRefusalThrottle } from './modules/audit/refusal-throttle.js';
import { createAuditQueryStore } from './modules/audit/audit-query-store.js';
import { auditRoutes } from './modules/audit/audit-routes.js';
import { createGuards } from './modules/auth/auth-guard.js';
import { authRoutes } from './modules/auth/auth-routes.js';
import { createAuthService } from './modules/auth/auth-service.js';
import { createAuthStore } from './modules/auth/auth-store.js';
import { docsRoutes } from './modules/docs/docs-routes.js';
import { feedRoutes } from './modules/feed/feed-routes.js';
import { createReadAhead } from './modules/feed/feed-read-ahead.js';
import { createHorizonMonitor } from './modules/feed/feed-horizon.js';
import { createFeedService, type FeedResume } from './modules/feed/feed-service.js';
import { createFeedStore } from './modules/feed/feed-store.js';
import { createLogService, loadLogSigner } from './modules/log/log-service.js';
import { LOGS } from './modules/log/log-leaf.js';
import { createLogStore } from './modules/log/log-store.js';
import { createSequencer, createSequencerScheduler } from './modules/log/sequencer.js';
import { logRoutes } from './modules/log/log-routes.js';
import { createMetrics } from './modules/ops/metrics.js';
import { createDataCrypto, loadDataKey } from './crypto/data-crypto.js';
import { resourceRoutes } from './modules/resources/resource-routes.js';
import { createResourceService } from './modules/resources/resource-service.js';
import { createResourceStore } from './modules/resources/resource-store.js';
import { settingsRoutes } from './modules/settings/settings-routes.js';
import { createSettingsService } from './modules/settings/settings-service.js';
import { createSettingsStore } from './modules/settings/settings-store.js';
import { userRoutes } from './modules/users/user-routes.js';
import { opsRoutes } from './modules/ops/ops-routes.js';
import { createDbRateLimiter, createRedisRateLimiter } from './modules/siem-keys/rate-limit.js';
import { siemKeyRoutes } from './modules/siem-keys/siem-key-routes.js';
import { createSiemKeyService } from './modules/siem-keys/siem-key-service.js';
import { createSiemKeyStore } from './modules/siem-keys/siem-key-store.js';
import { createTenantStore } from './modules/tenants/tenant-store.js';
import { createUserService } from './modules/users/user-service.js';
import { createUserStore } from './modules/users/user-store.js';

export interface BuildOptions {
  config: Config;
  database: Database;
  clock?: Clock;
  /** pino options or false; tests pass a stream to capture log lines. */
  logger?: boolean | Record<string, unknown>;
}

/** Log fields that may carry secrets, censored in every log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  '*.password',
  'key',
  '*.key',
  '*.newPassword',
  '*.currentPassword',
  '*.totp',
];

/**
 * Request log lines carry the path and the names of the query parameters, never their values, and
 * anything shaped like a key in either is redacted (http/redact.ts): a key pasted into a URL by mistake
 * must not reach the log. Headers are not logged at all.
 */
export const requestSerializer = (req: { method: string; url: string; ip?: string }) => {
  const [path = '', query] = req.url.split('?', 2);
  const names = query ? [...new URLSearchParams(query).keys()].map((k) => redactSecrets(k).slice(0, 64)) : [];
  return {
    method: req.method,
    path: redactSecrets(path).slice(0, 512),
    queryParams: names,
    remoteAddress: req.ip,
  };
};

export async function createContext(config: Config, database: Database, clock: Clock = systemClock) {
  const { db } = database;
  const userStore = createUserStore(db);
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true })
    : null;
  redis?.on('error', () => undefined);
  const dataKey = loadDataKey(config.dataKey, config.dataDir);
  await ensureDataKeyMatches(db, dataKey);
  const dataCrypto = createDataCrypto(dataKey);
  const metrics = createMetrics();
  // Counts refusals (never refuses itself): shared by every node, in Redis when configured.
  const refusals = createRefusalThrottle(
    redis
      ? createRedisRateLimiter(redis, Number.MAX_SAFE_INTEGER)
      : createDbRateLimiter(database, Number.MAX_SAFE_INTEGER),
  );
  const horizon = createHorizonMonitor({ database, clock, warnAfterSeconds: config.feedHorizonWarnSeconds });
  metrics.sources.horizonHeldSeconds = async () => (await horizon.inspect()).heldSeconds;
  const logStore = createLogStore(database);
  // The sequencer's transactions run on connections of their own, which the horizon passes over
  // (db/dialect.ts); SQLite has one writer and no horizon, so it shares the one connection.
  const sequencerDatabase = config.databaseUrl
    ? openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        poolSize: 2,
        applicationName: SEQUENCER_APPLICATION_NAME,
      })
    : database;
  const sequencer = createSequencer({ database: sequencerDatabase, store: logStore, clock });
  const sequencing = createSequencerScheduler({
    sequencer,
    db,
    tickMs: config.sequencerTickMs,
    sweepMs: config.sequencerSweepMs,
  });
  const logSigner = await loadLogSigner(db, dataCrypto);
  const settings = createSettingsService({ db, store: createSettingsStore(db), users: userStore, clock });
  const ctx: AppContext = {
    config,
    database,
    clock,
    metrics,
    tenants: createTenantStore(db),
    users: createUserService({
      db,
      store: userStore,
      clock,
      crypto: dataCrypto,
      passwordPolicy: (tenantId) => settings.getSetting(tenantId, 'password-policy'),
    }),
    settings,
    refusals,
    resources: createResourceService({
      db,
      refusals,
      store: createResourceStore(db),
      settings,
      crypto: dataCrypto,
      clock,
    }),
    dataCrypto,
    auth: createAuthService({
      db,
      store: createAuthStore(db),
      users: userStore,
      settings,
      crypto: dataCrypto,
      clock,
      sessionTtlMs: config.sessionTtlMinutes * 60_000,
    }),
    siemKeys: createSiemKeyService({
      db,
      dialect: database.dialect,
      store: createSiemKeyStore(db),
      clock,
      refusals,
      trail: {
        head: (tenantId) => logStore.readHead(tenantId, LOGS.trail.id),
        timeOf: (tenantId, seq) => logStore.timeOf(tenantId, LOGS.trail.id, seq),
      },
    }),
    feed: createFeedService({ store: createFeedStore(database), log: logStore, sequencer }),
    logStore,
    sequencer,
    sequencing,
    log: createLogService({ store: logStore, signer: logSigner }),
    horizon,
    feedReadAhead: createReadAhead<FeedResume>({
      enabled: config.siemReadAhead,
      onPrepared: () => metrics.readAhead.inc({ outcome: 'prepared' }),
      // The poll that would have been answered reads afresh and meets the error itself (503, ...).
      onError: () => metrics.readAhead.inc({ outcome: 'failed' }),
    }),
    auditQuery: createAuditQueryStore(db),
    rateLimiter: redis
      ? createRedisRateLimiter(redis, config.siemRateLimitPerMinute)
      : createDbRateLimiter(database, config.siemRateLimitPerMinute),
    loginLimiter: redis
      ? createRedisRateLimiter(redis, config.loginRateLimitPerMinute)
      : createDbRateLimiter(database, config.loginRateLimitPerMinute),
    cursorKey: await loadServerSecret(db, 'feed_cursor_hmac'),
    csrfKey: await loadServerSecret(db, 'csrf_hmac'),
  };
  const close = async () => {
    horizon.stop();
    await sequencing.stop();
    if (sequencerDatabase !== database) await sequencerDatabase.close();
    await ctx.feedReadAhead.close();
    await redis?.quit().catch(() => undefined);
  };
  return { ctx, close };
}

export async function buildApp(options: BuildOptions): Promise<{ app: FastifyInstance; ctx: AppContext }> {
  const { config, database } = options;
  const { ctx, close } = await createContext(config, database, options.clock);
  const logger =
    options.logger === false
      ? false
      : {
          level: config.logLevel,
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          serializers: { req: requestSerializer },
          ...(typeof options.logger === 'object' ? options.logger : {}),
        };

  const app = Fastify({
    logger,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    bodyLimit: 64 * 1024,
    requestIdHeader: false,
    // A random id per request (req-1, req-2 … per process would name different requests on two nodes),
    // or the X-Request-Id a trusted proxy set, so one id follows a request through the proxy's log and ours.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      const peer = req.socket?.remoteAddress;
      if (
        typeof given === 'string' &&
        /^[A-Za-z0-9._:-]{1,128}$/.test(given) &&
        peer &&
        config.trustedProxies.length > 0 &&
        ipInCidrs(peer, config.trustedProxies)
      ) {
        return given;
      }
      return crypto.randomUUID();
    },
    frameworkErrors,
    clientErrorHandler,
    // No automatic HEAD twin of a GET: a HEAD would run the handler, and record the access (a credential
    // reveal, a read) it describes, without sending the body.
    exposeHeadRoutes: false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onClose', close);
  ctx.horizon.start(app.log);
  ctx.sequencing.start((err) => app.log.warn({ err }, 'sequencer run failed; the next run retries'));
  // A request's events have committed when it has answered: sequence them soon (sequencer.ts).
  app.addHook('onResponse', async (request) => {
    ctx.sequencing.wake(request.tenantId);
  });
  // Query strings and path parameters arrive as text and are coerced (limit=50 → 50); JSON bodies are
  // not: {"description": 12345} is a 400, not the string "12345". Unknown keys are refused, not dropped.
  const ajvOptions = {
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    verbose: true,
    strict: false,
  } as const;
  const bodyAjv = new Ajv({ ...ajvOptions, coerceTypes: false });
  const textAjv = new Ajv({ ...ajvOptions, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema),
  );

  // The web UI (src/web, built by Vite into dist/web by `npm run build`), served from this origin.
  const webRoot = fileURLToPath(new URL('../dist/web/', import.meta.url));
  const webBuilt = fs.existsSync(path.join(webRoot, 'index.html'));
  installErrorHandler(app, { webIndex: webBuilt });
  await app.register(cookie);
  // gzip level 1: a feed page compresses ~10x at a fraction of level 6's CPU (docs/benchmarks.md).
  await app.register(compress, {
    global: true,
    encodings: ['gzip'],
    threshold: 1024,
    zlibOptions: { level: 1 },
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'IT Portal API',
        version: '0.1.0',
        description:
          'IT Portal: portal, admin and SIEM feed routes. Every error is JSON `{"Error","Message"}` (ErrorBody); 429 and 503 carry Retry-After. The SIEM routes take `Authorization: ApiKey <key>`; the portal and admin routes the session cookie of POST /api/auth/login, and on POST, PUT, PATCH and DELETE also `X-CSRF-Token`.',
      },
      components: {
        securitySchemes: {
          ApiKey: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'The header `Authorization: ApiKey itp_siem_<id>_<secret>` (a SIEM key of this portal).',
          },
          Session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'itp_session',
            description:
              'The HttpOnly session cookie POST /api/auth/login sets; state-changing requests also send X-CSRF-Token.',
          },
        },
      },
    },
    // Security, error answers, headers and the CSRF parameter by route kind, in one place (http/openapi.ts).
    transform: openapiTransform,
    transformObject: hoistErrorBody,
  });
  installRequestContext(app, ctx);
  installTextRules(app);
  if (webBuilt) {
    await app.register(fastifyStatic, {
      root: webRoot,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
    });
  }
  const guards = createGuards(ctx);
  await app.register(opsRoutes(ctx));
  await app.register(authRoutes(ctx, guards));
  await app.register(siemKeyRoutes(ctx, guards));
  await app.register(logRoutes(ctx, guards));
  await app.register(auditRoutes(ctx, guards));
  await app.register(feedRoutes(ctx));
  await app.register(settingsRoutes(ctx, guards));
  await app.register(resourceRoutes(ctx, guards));
  await app.register(userRoutes(ctx, guards));
  // The docs, rendered (Markdown as HTML, configs as text/plain downloads), on this origin.
  await app.register(docsRoutes());
  return { app, ctx };
}
