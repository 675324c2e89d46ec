import { readFileSync } from 'node:fs';
import { loadStackSettings, serviceIds, servicePorts } from './settings';

/** The first port the kernel hands out to outgoing connections (ip_local_port_range). */
function ephemeralStart(): number {
  const text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  return Number(text.trim().split(/\s+/)[0]);
}

describe('the local stack ports', () => {
  const s = loadStackSettings({});
  const fixed = Object.entries(s)
    .filter(([name]) => name.startsWith('ECOM_PORT_'))
    .map(([name, port]) => [name, port as number] as const);
  const perApp = serviceIds.flatMap((id) =>
    Object.entries(servicePorts(id)).map(([kind, port]) => [`${id} ${kind}`, port] as const),
  );
  const all = [...fixed, ['scheduler etcd peer', s.ECOM_PORT_SCHEDULER_ETCD + 1] as const, ...perApp];

  it('all lie below the ephemeral range, so no outgoing connection can hold one at start-up', () => {
    const start = ephemeralStart();
    expect(all.filter(([, port]) => port >= start)).toEqual([]);
  });

  it('are all different', () => {
    const seen = new Map<number, string>();
    const clashes = all.filter(([name, port]) => {
      const other = seen.get(port);
      seen.set(port, name);
      return other !== undefined;
    });
    expect(clashes).toEqual([]);
  });
});
