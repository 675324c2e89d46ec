import type { Request } from 'express';
import { clientOf } from './routes';

function request(headers: Record<string, string>, peer = '127.0.0.1'): Request {
  return {
    header: (name: string) => headers[name.toLowerCase()],
    socket: { remoteAddress: peer },
  } as unknown as Request;
}

describe('the client a login comes from', () => {
  it("is the edge's view of the client on a call the edge made", () => {
    expect(
      clientOf(request({ 'dapr-caller-app-id': 'edge', 'x-forwarded-for': '203.0.113.9, 10.0.0.4' })),
    ).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For on any other call: the sender chose it', () => {
    expect(clientOf(request({ 'x-forwarded-for': '198.51.100.1' }, '10.1.1.1'))).toBe('10.1.1.1');
    expect(
      clientOf(request({ 'dapr-caller-app-id': 'order', 'x-forwarded-for': '198.51.100.1' }, '10.1.1.2')),
    ).toBe('10.1.1.2');
  });
});
