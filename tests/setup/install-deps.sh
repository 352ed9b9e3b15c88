#!/usr/bin/env bash
# Installs what DWCP's tests and benchmarks need on a fresh Debian 12 (or Ubuntu) machine.
# Idempotent: what is already there is left alone. Run as root.
#
#   QEMU 7.2         Debian's qemu-system-x86 package (/usr/bin/qemu-system-x86_64)
#   QEMU 10.x        bookworm-backports' packages unpacked into $DWCP_QEMU10_DIR (default
#                    /opt/dwcp/qemu-10); its shared libraries are met by bookworm's
#   guest kernel     Debian's cloud kernel unpacked into $DWCP_GUEST_DIR (default /opt/dwcp/guest)
#   tools            busybox-static, cpio, iproute2, iptables (link cuts), gcc/libc6-dev/libsqlite3-dev (static workloads), maven, JDK 17
#   libvirt          libvirtd, virtlogd, virsh (the libvirt test bed starts its own daemons inside its
#                    namespaces; installing never starts them in the root namespace of a machine
#                    whose PID 1 is not systemd, see below)
#   packaging        curl (the libvirt hook), rpm (rpmbuild for the RPM), asciidoctor (the man pages),
#                    shellcheck and ruby (checks of the hook, the Vagrantfile and its provisioning
#                    script)
set -euo pipefail

QEMU10_DIR=${DWCP_QEMU10_DIR:-/opt/dwcp/qemu-10}
GUEST_DIR=${DWCP_GUEST_DIR:-/opt/dwcp/guest}

die() { echo "install-deps: $*" >&2; exit 1; }
log() { echo "install-deps: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and creates network namespaces)"
[ -f /etc/debian_version ] && command -v apt-get >/dev/null \
  || die "this is not a Debian-like system (no /etc/debian_version or apt-get); install QEMU, busybox-static, cpio, iproute2 and a JDK 17 by hand"

. /etc/os-release
codename=${VERSION_CODENAME:-bookworm}
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_update() { if [ $apt_updated -eq 0 ]; then apt-get update -q >/dev/null || die "apt-get update failed"; apt_updated=1; fi; }

# Backports suite, for QEMU 10 (Debian only; Ubuntu ships a recent QEMU itself).
if [ "$ID" = debian ]; then
  if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding ${codename}-backports to /etc/apt/sources.list.d/dwcp-backports.sources"
    cat > /etc/apt/sources.list.d/dwcp-backports.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${codename}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
fi

want=(qemu-system-x86 qemu-utils busybox-static cpio iproute2 iptables gcc libc6-dev libsqlite3-dev maven openjdk-17-jdk-headless
      procps psmisc kmod zstd
      libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
      curl rpm shellcheck ruby asciidoctor)
# libvirt's init flavour follows PID 1: without systemd, the sysv one (else apt pulls in systemd-sysv).
if [ -d /run/systemd/system ]; then want+=(libvirt-daemon-system-systemd); else want+=(libvirt-daemon-system-sysv); fi
missing=()
for p in "${want[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt_update
  log "installing ${missing[*]}"
  # Without systemd, invoke-rc.d would start libvirtd/virtlogd in the root namespace: a temporary
  # policy-rc.d forbids it (one already there, e.g. a container's, is left as it is).
  policy=/usr/sbin/policy-rc.d
  if [ ! -d /run/systemd/system ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# dwcp install-deps: no services started during the install\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  # qemu-system-x86 from the release itself: that is the 7.2 the tests call "QEMU 7.2".
  apt-get install -y -q --no-install-recommends -t "$codename" "${missing[@]}" >/dev/null \
    || apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
  if grep -qs 'dwcp install-deps' "$policy"; then rm -f "$policy"; trap - EXIT; fi
fi

# QEMU 10 from backports, unpacked side by side with the packaged 7.2.
if [ ! -x "$QEMU10_DIR/usr/bin/qemu-system-x86_64" ]; then
  apt_update
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp"; ( cd "$tmp"
    apt-get download -q -t "${codename}-backports" qemu-system-x86 qemu-system-common qemu-system-data \
        qemu-system-modules-spice qemu-block-extra seabios ipxe-qemu >/dev/null 2>&1 \
      || apt-get download -q -t "${codename}-backports" qemu-system-x86 qemu-system-common qemu-system-data seabios >/dev/null \
      || die "cannot download QEMU from ${codename}-backports" )
  mkdir -p "$QEMU10_DIR"
  for d in "$tmp"/*.deb; do dpkg -x "$d" "$QEMU10_DIR"; done
  v=$("$QEMU10_DIR/usr/bin/qemu-system-x86_64" --version | head -1) \
    || die "the unpacked QEMU does not start (missing libraries?): $QEMU10_DIR/usr/bin/qemu-system-x86_64"
  log "QEMU from backports: $v"
  rm -rf "$tmp"; trap - EXIT
fi

# Guest kernel: Debian's cloud kernel, unpacked (never installed on the host).
if ! ls "$GUEST_DIR"/vmlinuz-* >/dev/null 2>&1; then
  apt_update
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$pkg" ] || die "cannot find the package behind linux-image-cloud-amd64"
  chmod 755 "$tmp"; chmod 755 "$tmp"; ( cd "$tmp" && apt-get download -q "$pkg" >/dev/null ) || die "cannot download $pkg"
  dpkg -x "$tmp"/*.deb "$tmp/x"
  mkdir -p "$GUEST_DIR"
  cp "$tmp"/x/boot/vmlinuz-* "$GUEST_DIR"/
  log "guest kernel: $(ls "$GUEST_DIR"/vmlinuz-*)"
  rm -rf "$tmp"; trap - EXIT
fi

log "ready: QEMU 7.2 $(qemu-system-x86_64 --version | head -1 | awk '{print $4}'), QEMU 10 in $QEMU10_DIR, guest kernel in $GUEST_DIR"
