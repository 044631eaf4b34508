#!/usr/bin/env bash
# Builds (once per content) the Debian 12 guest used by `npm run test:vm`:
# a debootstrap root filesystem from Debian's archive with Debian's own kernel,
# systemd as init, lxcfs, fuse3, iproute2, nftables (zone networks need it) and the host's node binary, turned
# into an ext4 image without mounting anything (mkfs.ext4 -d). The kernel and
# initrd are copied out beside it so qemu boots them directly.
#
# The cache key is the hash of this script, the guest unit files and the node
# binary: the same inputs reuse the image, any change builds a new one. The
# checkout under test is NOT in this image (it changes every run); run.sh puts
# it on a second disk.
#
#   build-base.sh            prints the cache directory holding rootfs.img, vmlinuz, initrd.img
# Env: LXZONE_VM_CACHE (default /var/cache/lxzone-vm), LXZONE_VM_MIRROR (default Debian's archive).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache_root="${LXZONE_VM_CACHE:-/var/cache/lxzone-vm}"
mirror="${LXZONE_VM_MIRROR:-http://deb.debian.org/debian}"
node_bin="$(readlink -f "$(command -v node)")"
packages=systemd,systemd-sysv,libpam-systemd,udev,dbus,kmod,initramfs-tools,linux-image-amd64,lxcfs,fuse3,iproute2,nftables,procps,util-linux,e2fsprogs,mount

key="$( { cat "$0" "$here/guest/lxzone-vmtest.service"; sha256sum "$node_bin"; echo "$mirror $packages"; } | sha256sum | cut -c1-16)"
out="$cache_root/debian12-$key"
mkdir -p "$cache_root"
# One builder per cache entry; a second caller waits for it, then finds the image.
exec 9>"$out.lock"
flock 9
if [[ -f "$out/done" ]]; then echo "$out"; exit 0; fi

for tool in debootstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "build-base: $tool is missing (apt-get install debootstrap e2fsprogs qemu-system-x86)" >&2; exit 2; }
done
work="$(mktemp -d "$cache_root/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

echo "build-base: debootstrap bookworm from $mirror (a few minutes, once per content)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# The host's node (lxzone needs Node >= 20; bookworm's nodejs is 18).
install -m 0755 "$node_bin" "$root/usr/local/bin/node"

echo lxzone-vm >"$root/etc/hostname"
cat >"$root/etc/fstab" <<'FSTAB'
/dev/vda  /            ext4  defaults,errors=remount-ro  0 1
/dev/vdb  /opt/lxzone  ext4  defaults,nofail             0 2
/dev/vdc  /results     ext4  defaults,nofail             0 2
FSTAB
mkdir -p "$root/opt/lxzone" "$root/results"
install -m 0644 "$here/guest/lxzone-vmtest.service" "$root/etc/systemd/system/lxzone-vmtest.service"
ln -sf /etc/systemd/system/lxzone-vmtest.service "$root/etc/systemd/system/multi-user.target.wants/lxzone-vmtest.service"
# Nothing in the guest should compete with the tests for the emulated CPUs.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer lxcfs.service systemd-networkd.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
rm -f "$root/var/cache/apt/archives/"*.deb

kernel="$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)"
initrd="$(ls "$root"/boot/initrd.img-* | sort -V | tail -n 1)"
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
size_mb=$(( $(du -sm "$root" | cut -f1) + 1536 ))
mkfs.ext4 -q -F -L lxzone-vm -d "$root" "$work/rootfs.img" "${size_mb}M" >/dev/null
rm -rf "$root"
trap - EXIT
mv "$work" "$out"
touch "$out/done"
echo "$out"
