import { AppError } from './app-error';
import { kindOfStatus, statusOf, toProblem } from './problem-json';

describe('problem+json mapping', () => {
  it.each([
    ['INVALID_DATA', 400],
    ['UNAUTHORIZED', 401],
    ['FORBIDDEN', 403],
    ['NOT_FOUND', 404],
    ['CONFLICT', 409],
    ['PAYLOAD_TOO_LARGE', 413],
    ['RATE_LIMITED', 429],
    ['UNAVAILABLE', 503],
  ] as const)('maps %s to %i and back', (kind, status) => {
    expect(statusOf(kind)).toBe(status);
    expect(kindOfStatus(status)).toBe(kind);
  });

  it('names the offending fields', () => {
    const problem = toProblem(
      AppError.invalid('bad order', [{ field: 'items.0.quantity', message: 'too big' }]),
      '/orders',
    );
    expect(problem).toMatchObject({
      status: 400,
      instance: '/orders',
      errors: [{ field: 'items.0.quantity', message: 'too big' }],
    });
  });

  it('hides the detail of an unexpected error behind an opaque 500', () => {
    const problem = toProblem(new Error('password=hunter2 leaked in a stack'));
    expect(problem.status).toBe(500);
    expect(JSON.stringify(problem)).not.toContain('hunter2');
  });
});
