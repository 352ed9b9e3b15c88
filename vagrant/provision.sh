#!/usr/bin/env bash
# Provisions one KVM host of the vagrant test bed (run by vagrant as root inside the VM; see the
# Vagrantfile for the arguments it passes). Idempotent: a second "vagrant provision" converges.
#   1. test and runtime dependencies (tests/setup/install-deps.sh of the synced repository);
#   2. the dwcp DEB from /vagrant/packaging/target, configured with this host's name, its peers
#      and a certificate from the test bed CA; dwcpd enabled and started; libvirtd restarted so
#      that it finds the hook (the administrator's job: here provisioning is the administrator);
#   3. libvirtd reachable over plain TCP from the other hosts (test bed only: no authentication);
#   4. the WAN to the other region: netem on the wan interface (delay, rate, loss);
#   5. the test guest's kernel and initramfs in /var/lib/libvirt/boot/dwcp-guest.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: provision.sh --name NAME --region N --address IP --wan-address IP --peers NAME=IP,...
                    --wan-peers IP,... [--wan-delay-ms MS] [--wan-rate RATE] [--wan-loss PERCENT]
                    [--repository DIR] [--check-arguments]
Provisions a DWCP test bed host (the Vagrantfile passes all of these). --check-arguments only
checks the arguments and exits.
USAGE
}

name='' region='' address='' wan_address='' peers='' wan_peers='' wan_delay_ms=35 wan_rate=500mbit wan_loss=0.05%
repository=/vagrant check_only=no
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --region) region=$2; shift 2 ;;
    --address) address=$2; shift 2 ;;
    --wan-address) wan_address=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --wan-peers) wan_peers=$2; shift 2 ;;
    --wan-delay-ms) wan_delay_ms=$2; shift 2 ;;
    --wan-rate) wan_rate=$2; shift 2 ;;
    --wan-loss) wan_loss=$2; shift 2 ;;
    --repository) repository=$2; shift 2 ;;
    --check-arguments) check_only=yes; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "provision: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for required in name region address wan_address peers wan_peers; do
  [ -n "${!required}" ] || { echo "provision: --${required//_/-} is required" >&2; usage >&2; exit 2; }
done
[[ $region =~ ^[0-9]+$ ]] || { echo "provision: --region must be a number: $region" >&2; exit 2; }
[ $check_only = no ] || { echo "provision: arguments of $name are fine"; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "provision: must run as root" >&2; exit 1; }
log() { echo "provision[$name]: $*"; }

# ---- 1. dependencies ----
log "dependencies (tests/setup/install-deps.sh)"
"$repository/tests/setup/install-deps.sh"

# ---- 2. the package ----
deb=$(find "$repository/packaging/target" -maxdepth 1 -name 'dwcp_*_amd64.deb' -printf '%T@ %p\n' 2>/dev/null \
  | sort -n | tail -1 | cut -d' ' -f2-)
[ -n "$deb" ] || { echo "provision: no packaging/target/dwcp_*_amd64.deb: build it first (mvn -B -pl packaging -am package -DskipTests) and vagrant rsync" >&2; exit 1; }
log "installing $deb"
apt-get install -y -q "$deb"

properties=/etc/dwcp/dwcpd.properties
set_property() { # KEY VALUE: replaces the key's line (commented or not), else appends it
  if grep -qE "^#?$1=" "$properties"; then sed -i -E "s|^#?$1=.*|$1=$2|" "$properties"; else echo "$1=$2" >> "$properties"; fi
}
set_property node.name "$name"
set_property tunnel.listen "0.0.0.0:7470"
port=7501
IFS=, read -r -a peer_list <<< "$peers"
for peer in "${peer_list[@]}"; do
  peer_name=${peer%%=*} peer_address=${peer#*=}
  set_property "peer.$peer_name.address" "$peer_address:7470"
  set_property "peer.$peer_name.qemu-port" "$port"
  port=$((port + 1))
  # libvirt and the migration test reach peers by name
  sed -i "/ $peer_name\$/d" /etc/hosts
  echo "$peer_address $peer_name" >> /etc/hosts
done

tls=/etc/dwcp/tls
if [ ! -s "$tls/host.pem" ]; then
  [ -s "$repository/vagrant/.tls/ca.pem" ] || { echo "provision: no test bed CA in $repository/vagrant/.tls (made by vagrant/make-ca.sh at vagrant up)" >&2; exit 1; }
  install -m 0640 -g dwcp "$repository/vagrant/.tls/ca.pem" "$tls/ca.pem"
  install -m 0600 "$repository/vagrant/.tls/ca.key" "$tls/ca.key"
  dwcpd tls-host --name "$name" --ca-dir "$tls"
  chgrp dwcp "$tls/host.pem" "$tls/host.key"
  chmod 0640 "$tls/host.pem" "$tls/host.key"
fi

# ---- 3. libvirt over TCP (test bed only) ----
sed -i -E 's|^#?auth_tcp = .*|auth_tcp = "none"|' /etc/libvirt/libvirtd.conf
systemctl enable --now libvirtd-tcp.socket
systemctl restart libvirtd
systemctl enable dwcpd.service
systemctl restart dwcpd.service

# ---- 4. the WAN to the other region ----
wan_interface=$(ip -o -4 addr show | awk -v a="$wan_address" '{split($4, p, "/"); if (p[1] == a) print $2}')
[ -n "$wan_interface" ] || { echo "provision: no interface has $wan_address" >&2; exit 1; }
log "WAN on $wan_interface to $wan_peers: delay ${wan_delay_ms}ms, rate $wan_rate, loss $wan_loss"
tc qdisc del dev "$wan_interface" root 2>/dev/null || true
tc qdisc add dev "$wan_interface" root handle 1: prio bands 3 priomap 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1
tc qdisc add dev "$wan_interface" parent 1:3 handle 30: netem delay "${wan_delay_ms}ms" rate "$wan_rate" loss "$wan_loss" limit 100000
IFS=, read -r -a wan_list <<< "$wan_peers"
for peer_address in "${wan_list[@]}"; do
  tc filter add dev "$wan_interface" parent 1: protocol ip prio 1 u32 match ip dst "$peer_address/32" flowid 1:3
done

# ---- 5. the test guest ----
log "building the test guest"
(cd "$repository" && mvn -B -q -ntp -pl tests -am package -DskipTests)
guest=/var/lib/libvirt/boot/dwcp-guest
java -cp "$repository/tests/target/classes:$repository/tests/target/lib/*" io.dwcp.testbed.libvirt.GuestImageMain "$guest" > "$guest.cmdline"
mv "$guest.cmdline" "$guest/cmdline"
log "ready: region $region, $address (wan $wan_address), dwcpd $(systemctl is-active dwcpd.service)"
