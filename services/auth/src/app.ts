import { randomBytes, randomUUID } from 'node:crypto';
import {
  DAPR_API_TOKEN_HEADER,
  EventPublisher,
  JwtVerifier,
  MongoOutboxRelay,
  redisReadiness,
  RedisSessionDenylist,
  type MongoServiceContext,
  type ServiceParts,
} from '@ecom/shared';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import type { AuthServiceConfig } from './config';
import { AuthService } from './domain/auth-service';
import { accountDelaySeconds } from './domain/login-delay';
import type { Clock, Randomness } from './domain/ports';
import { authRoutes } from './http/routes';
import { JwtAccessTokenIssuer } from './keys/jwt-access-token-issuer';
import { SigningKeyRing } from './keys/signing-key-ring';
import { Argon2PasswordHasher } from './store/argon2-password-hasher';
import { MongoAccountStore } from './store/mongo-account-store';
import { MongoSessionStore } from './store/mongo-session-store';
import { RedisEndedSessions } from './store/redis-ended-sessions';
import { RedisLoginThrottle } from './store/redis-login-throttle';
import { RedisRegistrationThrottle } from './store/redis-registration-throttle';
import { RedisTrustedDevices } from './store/redis-trusted-devices';

/**
 * The auth service's parts: signing keys, accounts and sessions, the Redis throttles, and its
 * embedded outbox's relay. Its events ride in the account documents (single-document writes), so
 * they leave through that relay whichever outbox the server would allow.
 */
export async function composeAuth({
  config,
  logger,
  connection,
  sidecar,
}: MongoServiceContext<AuthServiceConfig>): Promise<ServiceParts> {
  const clock: Clock = { now: () => new Date() };
  const random: Randomness = {
    newId: () => randomUUID(),
    newSecret: () => randomBytes(32).toString('base64url'),
  };

  const keys = new SigningKeyRing({
    dir: config.AUTH_KEYS_DIR,
    clock,
    writable: config.AUTH_KEYS_WRITABLE,
    rotateAfterSeconds: config.AUTH_KEY_ROTATE_AFTER_S,
    retainAfterSupersededSeconds: config.ACCESS_TOKEN_TTL_S + config.AUTH_CLOCK_TOLERANCE_S + 60,
  });
  await keys.load();

  const accounts = new MongoAccountStore(connection);
  const sessions = new MongoSessionStore(connection);
  await Promise.all([accounts.init(), sessions.init()]);

  // No offline queue: when Redis is away a login fails fast (503) instead of hanging.
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  redis.on('error', (error: Error) => {
    logger.warn({ err: error }, 'redis connection error');
  });
  await redis.connect();

  const relay = new MongoOutboxRelay({
    sources: [accounts.outbox],
    sink: new EventPublisher(sidecar),
    logger,
    pollIntervalMs: config.OUTBOX_POLL_MS,
    sweepIntervalMs: config.OUTBOX_SWEEP_MS,
  });

  const auth = new AuthService({
    accounts,
    sessions,
    // Every token of an ended session has expired once its TTL and the skew passed (plus a margin).
    endedSessions: new RedisEndedSessions(
      redis,
      config.ACCESS_TOKEN_TTL_S + config.AUTH_CLOCK_TOLERANCE_S + 60,
    ),
    hasher: new Argon2PasswordHasher(),
    tokens: new JwtAccessTokenIssuer(keys, clock, {
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_S,
    }),
    throttle: new RedisLoginThrottle(redis, {
      accountDelaySeconds: (failures) =>
        accountDelaySeconds(failures, {
          freeFailures: config.LOGIN_ACCOUNT_FREE_FAILURES,
          baseSeconds: config.LOGIN_ACCOUNT_DELAY_BASE_S,
          maxSeconds: config.LOGIN_ACCOUNT_DELAY_MAX_S,
        }),
      maxFailuresPerClient: config.LOGIN_MAX_FAILURES_PER_CLIENT,
      maxFailuresPerDevice: config.LOGIN_MAX_FAILURES_PER_DEVICE,
      windowSeconds: config.LOGIN_FAILURE_WINDOW_S,
    }),
    devices: new RedisTrustedDevices(redis, config.LOGIN_DEVICE_TTL_S),
    registrations: new RedisRegistrationThrottle(redis, {
      maxDuplicates: config.REGISTER_MAX_DUPLICATES_PER_CLIENT,
      windowSeconds: config.REGISTER_DUPLICATE_WINDOW_S,
    }),
    outbox: relay,
    clock,
    random,
    sessionTtlSeconds: config.SESSION_TTL_S,
  });

  // This service's own tokens are verified like everyone else's: through its JWKS, refetched on an unknown kid.
  // Read from its own port, with the app token its sidecar would present (the port refuses anything else).
  const verifier = new JwtVerifier({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_S,
    keys: {
      jwksUrl: `http://127.0.0.1:${config.APP_PORT}/.well-known/jwks.json`,
      ...(config.APP_API_TOKEN === undefined
        ? {}
        : { headers: { [DAPR_API_TOKEN_HEADER]: config.APP_API_TOKEN } }),
    },
    denylist: new RedisSessionDenylist(redis),
  });

  const loginAttempts = new Counter({
    name: 'auth_login_attempts_total',
    help: 'Login attempts by outcome: success, rejected (bad credentials), throttled (429), error.',
    labelNames: ['outcome'] as const,
    registers: [],
  });
  const timers: NodeJS.Timeout[] = [];
  return {
    routes: authRoutes({
      auth,
      keys,
      verifier,
      recordLogin: (outcome) => {
        loginAttempts.inc({ outcome });
      },
    }),
    // Without Redis logins and registrations stop (their throttles fail closed); JWKS and refresh go on.
    readiness: [redisReadiness(redis)],
    metrics: [loginAttempts],
    onStart: async () => {
      relay.start();
      if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
        await auth.ensureAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
      }
      timers.push(
        setInterval(() => {
          keys.load().catch((error: unknown) => {
            logger.error({ err: error }, 'reloading signing keys failed; keeping the current ones');
          });
        }, config.AUTH_KEY_RELOAD_MS),
        setInterval(() => {
          sessions.purgeExpired(clock.now()).catch((error: unknown) => {
            logger.warn({ err: error }, 'purging expired sessions failed');
          });
        }, config.SESSION_PURGE_MS),
      );
      timers.forEach((t) => t.unref());
    },
    onShutdown: async () => {
      timers.forEach((t) => {
        clearInterval(t);
      });
      await relay.stop();
      redis.disconnect();
    },
  };
}
