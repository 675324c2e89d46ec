import { z } from 'zod';
import { baseConfigSchema, ConfigError, flag, loadConfig, millis } from './load-config';

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const config = loadConfig(baseConfigSchema, { APP_PORT: '4004' });
    expect(config.APP_PORT).toBe(4004);
    expect(config.DAPR_HTTP_PORT).toBe(3500);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('reports every bad key by name at once', () => {
    const schema = baseConfigSchema.extend({ FEATURE: flag() });
    let error: unknown;
    try {
      loadConfig(schema, {
        APP_PORT: 'eighty',
        DAPR_HTTP_PORT: '70000',
        LOG_LEVEL: 'loud',
        FEATURE: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(problems.sort()).toEqual(['APP_PORT', 'DAPR_HTTP_PORT', 'FEATURE', 'LOG_LEVEL']);
  });

  it('names a missing required key', () => {
    expect(() => loadConfig(z.object({ DATABASE_URL: z.url() }), {})).toThrow(/DATABASE_URL/);
  });

  it('takes a variable set to the empty string as not set: its default, or missing by name', () => {
    const schema = z.object({ SCAN_MS: millis().default(300_000), DATABASE_URL: z.url() });
    expect(loadConfig(schema, { SCAN_MS: '', DATABASE_URL: 'postgres://db/x' }).SCAN_MS).toBe(300_000);
    expect(() => loadConfig(schema, { DATABASE_URL: '' })).toThrow(/DATABASE_URL/);
    expect(loadConfig(schema, { SCAN_MS: '  ', DATABASE_URL: 'postgres://db/x' }).SCAN_MS).toBe(300_000);
    // Anything else is parsed as given, and refused by name when bad.
    expect(() => loadConfig(schema, { SCAN_MS: 'soon', DATABASE_URL: 'postgres://db/x' })).toThrow(/SCAN_MS/);
  });
});
