import { Writable } from 'node:stream';
import pino from 'pino';
import { routeConsoleTo } from './logger';

/** A pino logger writing its JSON lines into `lines`. */
function capture(level: pino.LevelWithSilent): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

describe('routeConsoleTo', () => {
  const saved = {
    log: console.log,
    info: console.info,
    debug: console.debug,
    warn: console.warn,
    error: console.error,
  };
  afterEach(() => Object.assign(console, saved));

  it("sends a library's console chatter to debug, and its warnings and errors as they are", () => {
    const { logger, lines } = capture('debug');
    routeConsoleTo(logger);
    console.info('work item %s', 'w-1');
    console.warn('queue full');
    console.error('stream broke');
    expect(lines.map((l) => [l.level, l.msg, l.source])).toEqual([
      [20, 'work item w-1', 'console'],
      [40, 'queue full', 'console'],
      [50, 'stream broke', 'console'],
    ]);
  });

  it('does not even format the chatter when debug is off', () => {
    const { logger, lines } = capture('info');
    routeConsoleTo(logger);
    const costly = { toString: jest.fn(() => 'formatted') };
    console.log('work item %s', costly);
    console.info(costly);
    expect(costly.toString).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('puts console back as it was when asked', () => {
    const { logger, lines } = capture('debug');
    const restore = routeConsoleTo(logger);
    restore();
    expect(console.log).toBe(saved.log);
    expect(console.warn).toBe(saved.warn);
    expect(console.error).toBe(saved.error);
    expect(lines).toEqual([]);
  });
});
