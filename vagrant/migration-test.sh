#!/usr/bin/env bash
# The multi-host migration test of the vagrant test bed, run as root on a provisioned host:
#   migration-test.sh [--route r1h1,r1h2,r2h1,r1h1] [--via-dwcp] [--memory MIB]
# Starts the test guest (its workload fills and dirties memory and checks itself) on the first
# host of the route, migrates it live from host to host along the route with libvirt
# (virsh migrate --live --p2p), and asks the guest to verify its memory after every hop.
# --via-dwcp sends QEMU's stream through dwcpd (--migrateuri unix:///run/dwcp/peer/DEST.sock, see
# plugin/README.md) instead of QEMU's own TCP connection.
# The guest console is a raw TCP serial port (4555) on whichever host runs the guest.
set -euo pipefail

route=r1h1,r1h2,r2h1,r1h1 via_dwcp=no memory_mib=512 console_port=4555
while [ $# -gt 0 ]; do
  case $1 in
    --route) route=$2; shift 2 ;;
    --via-dwcp) via_dwcp=yes; shift ;;
    --memory) memory_mib=$2; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "migration-test: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "migration-test: must run as root" >&2; exit 1; }
IFS=, read -r -a hosts <<< "$route"
[ ${#hosts[@]} -ge 2 ] || { echo "migration-test: the route needs two hosts at least" >&2; exit 2; }
guest=/var/lib/libvirt/boot/dwcp-guest
[ -s "$guest/vmlinuz" ] || { echo "migration-test: no test guest in $guest (provision.sh builds it)" >&2; exit 1; }
domain=dwcp-migration-test
uri() { if [ "$1" = "$(hostname)" ]; then echo qemu:///system; else echo "qemu+tcp://$1/system"; fi; }
virsh_on() { local host=$1; shift; virsh -q -c "$(uri "$host")" "$@"; }
type=qemu; cpu="<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>"
if [ -w /dev/kvm ] && grep -qE ' (vmx|svm)' /proc/cpuinfo; then type=kvm; cpu="<cpu mode='host-passthrough' check='none'/>"; fi

cleanup() {
  exec 3<&- 3>&- 2>/dev/null || true
  for host in "${hosts[@]}"; do virsh_on "$host" destroy "$domain" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# The console: connect, then read lines until one matches (the workload's lines carry DWCP-WORKLOAD).
console_open() { exec 3<>"/dev/tcp/$1/$console_port"; }
console_await() { # PATTERN SECONDS
  local line deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    if IFS= read -r -t 5 line <&3; then
      case $line in *"$1"*) echo "${line//$'\r'/}"; return 0 ;; *'Kernel panic'*) echo "$line"; return 1 ;; esac
    fi
  done
  echo "timeout waiting for '$1'"; return 1
}
verify() { # HOST: asks the guest on HOST to check its memory
  console_open "$1"
  echo "verify hop$2" >&3
  local verdict; verdict=$(console_await "VERDICT" 180) || { echo "FAIL: no verdict from the guest on $1: $verdict"; return 1; }
  exec 3<&- 3>&-
  case $verdict in *"VERDICT OK"*) echo "ok: guest intact on $1: $verdict" ;; *) echo "FAIL: guest on $1: $verdict"; return 1 ;; esac
}

cat > "/tmp/$domain.xml" <<XML
<domain type='$type'>
  <name>$domain</name>
  <memory unit='MiB'>$((memory_mib + 256))</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.img</initrd>
    <cmdline>$(sed "s/dwcp.mem=[0-9]*/dwcp.mem=$memory_mib/" "$guest/cmdline")</cmdline>
  </os>
  $cpu
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <serial type='tcp'>
      <source mode='bind' host='0.0.0.0' service='$console_port'/>
      <protocol type='raw'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML

first=${hosts[0]}
echo "starting $domain ($type, ${memory_mib} MiB workload) on $first"
virsh_on "$first" create --paused "/tmp/$domain.xml" >/dev/null
console_open "$first"
virsh_on "$first" resume "$domain" >/dev/null
ready=$(console_await "DWCP-WORKLOAD READY" 300) || { echo "FAIL: the guest did not get ready: $ready"; exit 1; }
echo "$ready"
exec 3<&- 3>&-
verify "$first" 0

failures=0
for ((i = 1; i < ${#hosts[@]}; i++)); do
  from=${hosts[i - 1]} to=${hosts[i]}
  options=(--live --p2p --verbose)
  [ $via_dwcp = yes ] && options+=(--migrateuri "unix:///run/dwcp/peer/$to.sock")
  start=$(date +%s.%N)
  if virsh_on "$from" migrate "${options[@]}" "$domain" "qemu+tcp://$to/system"; then
    echo "migrated $from -> $to in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
    verify "$to" "$i" || failures=$((failures + 1))
  else
    echo "FAIL: migration $from -> $to"; failures=$((failures + 1)); break
  fi
done
[ $failures -eq 0 ] && echo "migration-test: all hops intact" || echo "migration-test: $failures failures"
[ $failures -eq 0 ]
