import { existsSync, readFileSync } from 'node:fs';
import { loadStackSettings, servicePorts, stackPorts } from './settings';

/** The kernel's ephemeral range on this machine (Linux's default when the file is missing). */
function ephemeralRange(): [number, number] {
  const file = '/proc/sys/net/ipv4/ip_local_port_range';
  if (!existsSync(file)) return [32768, 60999];
  const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  return [low ?? 32768, high ?? 60999];
}

/** Ports other parts of the project listen on: the operator's test cluster and the kind tests. */
const othersPorts = [12379, 12380, 16443, 16444, 16543, 18500];

describe('the local stack ports', () => {
  const defaults = stackPorts(loadStackSettings({}));

  it('lists every listening port: 15 of infrastructure and control plane, 5 for each of 7 services', () => {
    expect(defaults).toHaveLength(15 + 7 * 5);
  });

  it("keeps every default out of the kernel's ephemeral range, where an outgoing connection could hold it", () => {
    const [low, high] = ephemeralRange();
    expect(defaults.filter(({ port }) => port >= low && port <= high)).toEqual([]);
    // Also out of Linux's default range, for machines that keep it.
    expect(defaults.filter(({ port }) => port >= 32768 && port <= 60999)).toEqual([]);
  });

  it('gives each default its own port, away from the ports of the cluster tests', () => {
    const ports = defaults.map((p) => p.port);
    expect(new Set(ports).size).toBe(ports.length);
    expect(defaults.filter(({ port }) => othersPorts.includes(port))).toEqual([]);
  });

  it('takes each port from its ECOM_PORT_* variable, a service port from its base plus its index', () => {
    const s = loadStackSettings({ ECOM_PORT_PLACEMENT: '21005', ECOM_PORT_DAPR_GRPC_BASE: '26100' });
    expect(s.ECOM_PORT_PLACEMENT).toBe(21005);
    expect(servicePorts('auth', s).daprGrpc).toBe(26101);
    expect(servicePorts('saga', s).daprGrpc).toBe(26107);
    expect(servicePorts('order', loadStackSettings({})).daprHttp).toBe(3504);
  });

  it('refuses two parts on one port, naming both', () => {
    expect(() => loadStackSettings({ ECOM_PORT_SCHEDULER: '20005' })).toThrow(
      /ports clash: 20005 \(placement, scheduler\)/,
    );
    // The order sidecar's gRPC port (base 26000 + 4) against the scheduler's.
    expect(() => loadStackSettings({ ECOM_PORT_SCHEDULER: '26004' })).toThrow(
      /26004 \(scheduler, order-dapr grpc\)/,
    );
  });

  it('refuses a base that pushes a service port past 65535', () => {
    expect(() => loadStackSettings({ ECOM_PORT_APP_BASE: '65530' })).toThrow(
      /65537 \(saga app\) is beyond 65535/,
    );
    expect(() => loadStackSettings({ ECOM_PORT_REDIS: 'x' })).toThrow(/ECOM_PORT_REDIS/);
  });
});
