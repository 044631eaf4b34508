#!/usr/bin/env bash
# `npm run test:vm`: the focused zone tests in a stock Debian 12 guest (Debian's
# 6.1 kernel, systemd 252 as init, unified cgroup v2, `/` shared), booted under
# qemu's software emulation: /dev/kvm on these machines cannot boot Debian's
# stock kernel, so TCG it is (-accel tcg,thread=multi -cpu max).
#
# Three disks: the cached base image (build-base.sh; written through a qemu
# snapshot, so it stays pristine), the built checkout (made fresh each run,
# mounted at /opt/lxzone), and an empty results disk the guest writes its
# counts to, read back here with debugfs (no mount on the host). The serial
# console shows progress. The last line is "N passed, N failed".
# Needs root only for nothing; needs debootstrap, qemu-system-x86, e2fsprogs, make and gcc (the bench's loops).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
timeout_s="${LXZONE_VM_TIMEOUT:-1800}"

for f in build/Release/lxzone.node build/Release/lxzone-shim dist/cli/main.js; do
  [[ -e "$repo/$f" ]] || { echo "test:vm: $f is missing: run npm ci (or npm run build) first" >&2; echo "0 passed, 1 failed"; exit 1; }
done
for tool in qemu-system-x86_64 mkfs.ext4 debugfs; do
  command -v "$tool" >/dev/null || { echo "test:vm: $tool is missing (apt-get install qemu-system-x86 e2fsprogs debootstrap)" >&2; echo "0 passed, 1 failed"; exit 1; }
done

base="$("$here/build-base.sh")" || { echo "test:vm: the guest image could not be built" >&2; echo "0 passed, 1 failed"; exit 1; }
work="$(mktemp -d /var/tmp/lxzone-vm.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The bench's loops, built here: the guest has no toolchain (they are static).
make -s -C "$repo/fixtures" bench || { echo "test:vm: make -C fixtures bench failed (needs gcc)" >&2; echo "0 passed, 1 failed"; exit 1; }

# The checkout as the guest runs it: what `npm ci` built, nothing of git or the tests; the bench
# (its TypeScript, run by tsx, imports src/) and its fixtures for the notified-call measurement.
stage="$work/checkout"
mkdir -p "$stage/build/Release" "$stage/scripts/vm" "$stage/fixtures/bin"
cp -a "$repo/bin" "$repo/dist" "$repo/syscall-tables" "$repo/node_modules" "$repo/package.json" "$repo/packaging" \
  "$repo/bench" "$repo/src" "$repo/tsconfig.json" "$stage/"
rm -rf "$stage/bench/results"
cp -a "$repo/fixtures/bin/bench" "$stage/fixtures/bin/"
mkdir -p "$stage/test" && cp -a "$repo/test/support" "$stage/test/"   # the bench's sections import its helpers
cp -a "$repo/build/Release/lxzone.node" "$repo/build/Release/lxzone-shim" "$stage/build/Release/"
cp -a "$repo/scripts/vm/guest" "$stage/scripts/vm/"
mkfs.ext4 -q -F -L lxzone-src -d "$stage" "$work/checkout.img" "$(( $(du -sm "$stage" | cut -f1) + 256 ))M" >/dev/null
rm -rf "$stage"
mkfs.ext4 -q -F -L lxzone-results "$work/results.img" 32M >/dev/null

echo "test:vm: booting Debian 12 ($(basename "$base")) under qemu TCG; console in $work/console.log" >&2
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu max -smp 2 -m 3072 \
  -kernel "$base/vmlinuz" -initrd "$base/initrd.img" \
  -append "console=ttyS0 root=/dev/vda rw loglevel=4 panic=-1 systemd.default_device_timeout_sec=900 systemd.default_timeout_start_sec=900" \
  -drive "file=$base/rootfs.img,if=virtio,format=raw,snapshot=on" \
  -drive "file=$work/checkout.img,if=virtio,format=raw" \
  -drive "file=$work/results.img,if=virtio,format=raw" \
  -nic none -display none -no-reboot -serial "file:$work/console.log" &
qemu=$!
# Progress: the guest's test lines as they come. Once the guest has printed its
# counts it has a minute to power off before it is stopped (the results disk is
# synced before the counts are printed). tail ends with qemu (--pid): an
# orphaned tail -F would hold our stdout open forever, and whoever reads it
# through a pipe (CI's tee) would wait for it.
(
  tail -n +1 -F --pid="$qemu" "$work/console.log" 2>/dev/null | while IFS= read -r line; do
    line="${line//$'\r'/}"
    [[ "$line" == *"lxzone-vm: "* ]] || continue
    echo "${line#*lxzone-vm: }"
    if [[ "$line" =~ lxzone-vm:\ [0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
      sleep 60; kill "$qemu" 2>/dev/null; break
    fi
  done
) &
watcher=$!
wait "$qemu"; qrc=$?
# Children first: once the watcher is gone they are no longer its children.
pkill -P "$watcher" 2>/dev/null; kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true
set -e

results="$(debugfs -R 'cat /results.txt' "$work/results.img" 2>/dev/null || true)"
summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$results" | tail -n 1 || true)"
if [[ -z "$summary" ]]; then
  echo "test:vm: the guest reported no result (qemu exit $qrc); last console lines:" >&2
  tail -n 40 "$work/console.log" >&2 || true
  n=$(grep -c '^ok - ' <<<"$results" || true)
  echo "${n:-0} passed, 1 failed"
  exit 1
fi
grep -E '^not ok - ' <<<"$results" >&2 || true
echo "$summary"
[[ "$summary" == *" 0 failed" ]]
