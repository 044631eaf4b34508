#!/usr/bin/env bash
# The peers of `npm run bench:oci`, installed only for the bench (never by CI):
# containerd and its runc shim, runc, crun (Debian 12's).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# containerd.service must not start: the bench runs a containerd of its own.
mkdir -p /etc/systemd/system
[ -e /etc/systemd/system/containerd.service ] || ln -s /dev/null /etc/systemd/system/containerd.service
apt-get install -y -qq --no-install-recommends containerd runc crun >/dev/null
