#!/usr/bin/env bash
# A Debian root filesystem as a plain rootfs tar (lxzone create --image), built
# with debootstrap from Debian's archive and cached by content: the same suite,
# mirror, package list and version of this script give the same cache entry,
# so a CI run (or a developer) builds it once and every later call prints the
# cached path at once. Prints the tar's path on stdout; progress on stderr.
#
#   scripts/debian-rootfs.sh [--cache DIR] [--suite S] [--include PKG,PKG]
#
# Defaults: suite bookworm (Debian 12), the packages a system zone needs to
# boot systemd (systemd, systemd-sysv, dbus) plus procps, cache
# $LXZONE_IMAGE_CACHE or /var/cache/lxzone/images. Needs root and debootstrap.
set -euo pipefail

cache=${LXZONE_IMAGE_CACHE:-/var/cache/lxzone/images}
suite=bookworm
mirror=${LXZONE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
include=systemd,systemd-sysv,dbus,procps
while [ $# -gt 0 ]; do
  case $1 in
    --cache) cache=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    --include) include=$2; shift 2 ;;
    *) echo "debian-rootfs.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v debootstrap >/dev/null || { echo "debian-rootfs.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

# The key covers everything that shapes the result, this script included.
key=$(printf '%s\n' "$suite" "$mirror" "$include" "$(sha256sum < "${BASH_SOURCE[0]}")" | sha256sum | cut -c1-16)
out=$cache/debian-$suite-$key.tar
mkdir -p "$cache"
# One builder at a time per cache entry; a second caller waits, then finds it.
exec 9>"$out.lock"
flock 9
if [ -s "$out" ]; then echo "$out"; exit 0; fi

work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
echo "debian-rootfs.sh: debootstrap $suite ($include) into $work (a few minutes)" >&2
debootstrap --variant=minbase --include="$include" "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  echo "debian-rootfs.sh: debootstrap failed (log above)" >&2
  exit 1
}
root=$work/root
# An image, not a machine: every zone made from it gets a machine id of its
# own at first boot (systemd fills an empty /etc/machine-id), and no apt
# downloads or logs of the build are kept.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
# The zone's hostname is lxzone's to set (its config); without /etc/hostname
# systemd takes the one it finds instead of trying (and failing) to set its own.
rm -f "$root/etc/hostname"
# Device nodes are the zone's business (lxzone builds /dev); /proc and /sys
# are mount points only.
tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "$out"
