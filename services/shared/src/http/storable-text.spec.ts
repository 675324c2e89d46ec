import { unstorableReason, unstorableText } from './storable-text';

describe('storable text', () => {
  it.each(['', 'Zoë Ångström', '東京都', '👍🏽‍👩‍💻', 'e\u0301', '\u200d\ufeff', '\uffff'])(
    'accepts well-formed text %p',
    (text) => {
      expect(unstorableReason(text)).toBeUndefined();
    },
  );

  it.each([
    ['a\u0000b', 'NUL'],
    ['\u0000', 'NUL'],
    ['x\ud800', 'lone surrogate'],
    ['\udc00x', 'lone surrogate'],
    ['\udc00\ud800', 'lone surrogate'],
  ])('refuses %p (%s)', (text, what) => {
    expect(unstorableReason(text)).toContain(what === 'NUL' ? 'NUL' : 'surrogate');
  });

  it('names every offending value by its path, in document order, keys included', () => {
    const input = {
      name: 'ok',
      addresses: [{ line1: 'fine' }, { line1: 'a\u0000', city: 'b\ud800' }],
      ['k\u0000']: 1,
      nested: { deeper: ['\u0000'] },
    };
    expect(unstorableText(input, 'body')).toEqual([
      { field: 'addresses.1.line1', message: 'must not contain NUL characters' },
      { field: 'addresses.1.city', message: 'must be well-formed Unicode (no lone surrogates)' },
      { field: 'k\u0000', message: 'name must not contain NUL characters' },
      { field: 'nested.deeper.0', message: 'must not contain NUL characters' },
    ]);
  });

  it('names a bare string by the root and leaves other values alone', () => {
    expect(unstorableText('\u0000', 'Idempotency-Key')).toEqual([
      { field: 'Idempotency-Key', message: 'must not contain NUL characters' },
    ]);
    expect(unstorableText(new Date(0), 'body')).toEqual([]);
    expect(unstorableText(9007199254740993n, 'body')).toEqual([]);
  });

  it('walks nesting deeper than the call stack allows', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    const problems = unstorableText(deep, 'body');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.field.split('.')).toHaveLength(200_000);
  });
});
