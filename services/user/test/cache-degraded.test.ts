import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { assembleMongoService, createLogger, loadConfig, type ServiceApp } from '@ecom/shared';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { serviceEnv, sidecarTokens } from '../../../stack/src/services';
import { loadStackSettings } from '../../../stack/src/stack';
import { freePort } from '../../../stack/test/support/ports';
import { composeUser } from '../src/app';
import { userServiceConfigSchema } from '../src/config';
import { MongoProfileStore } from '../src/store/mongo-profile-store';
import { login, registerUser } from '../../auth/test/support/auth-client';

/**
 * The user service wired to a Redis that is not there (a dead port), on its own
 * database: reads and writes keep working from MongoDB and readiness says the
 * cache is degraded. The shared Redis of the stack stays up for everyone else.
 */
describe('user: with Redis unavailable', () => {
  const database = `user_degraded_${randomUUID().slice(0, 8)}`;
  let connection: mongoose.Connection;
  let redis: Redis;
  let service: ServiceApp;
  let baseUrl: string;

  beforeAll(async () => {
    const s = loadStackSettings();
    const port = await freePort();
    const deadRedisPort = await freePort();
    const env = { ...serviceEnv(s, 'user'), APP_PORT: String(port), LOG_LEVEL: 'silent' };
    const config = loadConfig(userServiceConfigSchema, env);
    connection = await mongoose
      .createConnection(`mongodb://127.0.0.1:${s.ECOM_PORT_MONGO}/${database}`)
      .asPromise();
    redis = new Redis({
      host: '127.0.0.1',
      port: deadRedisPort,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
    });
    redis.on('error', () => undefined);
    service = await assembleMongoService({
      name: 'user',
      config,
      logger: createLogger('user-test', 'silent'),
      connection,
      compose: (context) => composeUser(context, redis),
    });
    const server: Server = await service.start();
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await service.stop('test done');
  });

  it('serves and updates profiles from MongoDB, counts cache errors, and reports degraded readiness', async () => {
    const user = await registerUser('No Cache');
    const { accessToken } = await login(user.email, user.password);
    const store = new MongoProfileStore(connection);
    const now = new Date();
    await store.createIfAbsent({
      userId: user.userId,
      email: user.email,
      name: 'No Cache',
      phone: null,
      addresses: [],
      roles: ['customer'],
      createdAt: now,
      updatedAt: now,
    });
    // As the app's sidecar delivers a request: with the app API token.
    const headers = {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      'dapr-api-token': sidecarTokens('user').APP_API_TOKEN,
    };

    const started = Date.now();
    const read = await fetch(`${baseUrl}/users/me`, { headers });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ userId: user.userId, name: 'No Cache' });
    expect(Date.now() - started).toBeLessThan(2_000);

    const patch = await fetch(`${baseUrl}/users/me`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ name: 'Still Works' }),
    });
    expect(patch.status).toBe(200);
    const again = await fetch(`${baseUrl}/users/me`, { headers });
    expect(await again.json()).toMatchObject({ name: 'Still Works' });

    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      checks: { 'redis-cache': { status: 'down', critical: false }, mongodb: { status: 'up' } },
    });

    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/user_profile_cache_requests_total\{[^}]*outcome="error"[^}]*\} [1-9]/);
  });
});
