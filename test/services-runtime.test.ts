import { realpathSync } from 'node:fs';
import { serviceNode } from '../stack/src/binaries';
import { presentServices } from '../stack/src/services';
import { readPid } from '../stack/src/supervisor';

describe('the services of the local stack', () => {
  it("run on the Node pinned in stack/versions.env (the images' Node), not on the machine's", () => {
    const pinned = realpathSync(serviceNode());
    const services = presentServices();
    expect(services.length).toBeGreaterThan(0);
    for (const id of services) {
      const pid = readPid(id);
      expect({ id, exe: pid === undefined ? undefined : realpathSync(`/proc/${pid}/exe`) }).toEqual({
        id,
        exe: pinned,
      });
    }
  });
});
