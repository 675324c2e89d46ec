import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import mongoose, { Schema } from 'mongoose';
import { loadStackSettings } from '../src/stack';
import { eventually } from './support/eventually';

const s = loadStackSettings();

describe('the MongoDB-protocol server (FerretDB, or mongod when on PATH)', () => {
  let connection: mongoose.Connection;
  const Account = new Schema({ email: { type: String, required: true, unique: true }, name: String });

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(`mongodb://127.0.0.1:${s.ECOM_PORT_MONGO}/stack_probe`)
      .asPromise();
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('creates and finds documents, and rejects a duplicate on a unique index', async () => {
    const model = connection.model(`Account${Date.now()}`, Account);
    await model.init(); // builds the unique index
    const email = `${randomUUID()}@example.com`;
    await model.create({ email, name: 'Ada' });
    const found = await model.findOne({ email }).lean();
    expect(found?.name).toBe('Ada');
    await expect(model.create({ email, name: 'Grace' })).rejects.toMatchObject({ code: 11000 });
    expect(await model.countDocuments({ email })).toBe(1);
  });
});

describe('Redis', () => {
  const redis = new Redis({ host: '127.0.0.1', port: s.ECOM_PORT_REDIS });
  afterAll(() => {
    redis.disconnect();
  });

  it('gets and sets values, and expires them', async () => {
    const key = `probe:${randomUUID()}`;
    await redis.set(key, 'value', 'PX', 300);
    expect(await redis.get(key)).toBe('value');
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    await eventually(
      () => redis.get(key),
      (v) => v === null,
      { what: 'key expiry', timeoutMs: 5_000 },
    );
  });
});
