// moduleOrder: the initramfs loads each kernel module after the modules it needs (from modules.dep).
import { expect } from 'chai';
import { moduleName, moduleOrder } from '../../src/builder/vm/module-order.js';
import { MorphuxError } from '../../src/domain/errors.js';

// the shape of Debian 6.1's modules.dep for what the build VM loads (dependencies listed transitively)
const DEP = `kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/crypto/crc32c_generic.ko:
kernel/fs/overlayfs/overlay.ko:
kernel/fs/a.ko: kernel/fs/b.ko
kernel/fs/b.ko: kernel/fs/a.ko
`;

describe('moduleOrder', () => {
  it('puts every module after its dependencies, each once', () => {
    const order = moduleOrder(DEP, ['virtio_pci', 'virtio-blk', 'crc32c_generic', 'ext4', 'overlay']).map((m) => m.name);
    expect(order).to.have.members(['virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci',
      'virtio_blk', 'crc16', 'mbcache', 'jbd2', 'ext4', 'crc32c_generic', 'overlay']);
    expect(new Set(order).size).to.equal(order.length);
    const before = (a: string, b: string) => expect(order.indexOf(a), `${a} before ${b}`).to.be.lessThan(order.indexOf(b));
    before('virtio_ring', 'virtio');
    before('virtio', 'virtio_pci');
    before('virtio_pci_modern_dev', 'virtio_pci');
    before('virtio', 'virtio_blk');
    before('jbd2', 'ext4');
    before('crc16', 'ext4');
  });

  it('keeps the file path, compressed or not', () => {
    const blk = moduleOrder(DEP, ['virtio_blk']).find((m) => m.name === 'virtio_blk')!;
    expect(blk.relPath).to.equal('kernel/drivers/block/virtio_blk.ko.xz');
    expect(moduleName('kernel/fs/nls/nls-utf8.ko.zst')).to.equal('nls_utf8');
  });

  for (const [title, wanted] of [['an unknown module', ['nosuch']], ['a dependency cycle', ['a']]] as const) {
    it(`refuses ${title} with code infrastructure`, () => {
      try {
        moduleOrder(DEP, [...wanted]);
        expect.fail('no error');
      } catch (e) {
        expect(e).to.be.instanceOf(MorphuxError);
        expect((e as MorphuxError).code).to.equal('infrastructure');
      }
    });
  }
});
