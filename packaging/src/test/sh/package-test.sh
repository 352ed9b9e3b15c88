#!/bin/bash
# Tests the dwcp packages on this machine without changing it:
#
#   package-test.sh DEB [RPM]
#
# The DEB is installed, run, upgraded and purged inside a throw-away copy of this machine's root
# file system: an overlay (lower: /, upper: a tmpfs) in private mount, network, UTS and PID
# namespaces, entered with chroot. Everything the package does lands in the tmpfs and vanishes
# with the namespaces; dwcpd listens only in the private network namespace; the PID namespace
# ends every process when the test ends. What the purge leaves is read from the overlay's upper
# layer: any file that differs from this machine's is a leftover.
# With an RPM: its layout, configuration files, requirements and scripts (rpm -qp), then an
# install and an erase with rpm --nodeps in the same overlay, which runs the shared scripts with
# RPM's arguments.
#
# Output: one line per check, "ok - WHAT" or "not ok - WHAT: WHY", details as "# ..." lines.
# Exit status: 0 when every check passed, 1 otherwise, 2 when it cannot run.
set -u

if [ "${1:-}" != --inside ]; then
  [ "$(id -u)" -eq 0 ] || { echo "package-test: must run as root (namespaces, overlay mounts, chroot)" >&2; exit 2; }
  [ $# -ge 1 ] && [ -f "$1" ] || { echo "usage: package-test.sh DEB [RPM]" >&2; exit 2; }
  deb=$(readlink -f "$1"); rpm=; [ $# -ge 2 ] && rpm=$(readlink -f "$2")
  work=$(mktemp -d /run/dwcp-pkgtest.XXXXXX) || exit 2
  trap 'rmdir "$work" 2>/dev/null' EXIT
  unshare --mount --net --uts --pid --fork --kill-child --mount-proc --propagation private \
    "$(readlink -f "$0")" --inside "$work" "$deb" "$rpm"
  exit $?
fi

work=$2 deb=$3 rpm=${4:-}
failures=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; failures=$((failures + 1)); }
detail() { sed 's/^/# /'; }
check() { # check WHAT COMMAND...: ok when COMMAND exits 0
  local what=$1; shift
  if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what: exit $? ${out:+($(printf '%s' "$out" | head -c 400 | tr '\n' ' '))}"; fi
}

# ---- the throw-away root ----
mount -t tmpfs -o size=4g,mode=0755 tmpfs "$work" || exit 2
mkdir -p "$work/upper" "$work/work" "$work/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$work/root" || exit 2
root=$work/root
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
hostname dwcp-pkgtest
ip link set lo up
cp "$deb" "$root/tmp/dwcp.deb"
[ -n "$rpm" ] && cp "$rpm" "$root/tmp/dwcp.rpm"
# what existed before, for the purge audit (the overlay hides nothing of the lower layer)
had_hooks_qemu=no; [ -e /etc/libvirt/hooks/qemu ] && had_hooks_qemu=yes
had_qemu_d=no; [ -e /etc/libvirt/hooks/qemu.d ] && had_qemu_d=yes
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root "$@"; }
mode_of() { in_root stat -c '%a %U:%G' "$1" 2>&1; }
expect_mode() { # PATH MODE OWNER:GROUP
  local actual; actual=$(mode_of "$1")
  if [ "$actual" = "$2 $3" ]; then ok "$1 is $2 $3"; else not_ok "$1 is $2 $3: it is '$actual'"; fi
}

# ---- install ----
if install_out=$(in_root dpkg -i /tmp/dwcp.deb 2>&1); then
  ok "dpkg -i installs the DEB"
else
  not_ok "dpkg -i installs the DEB: exit $?"; printf '%s\n' "$install_out" | detail
  echo "# cannot go on without the package installed"; exit 1
fi
printf '%s\n' "$install_out" | detail
case $install_out in
  *"Restart libvirtd when convenient"*"does not restart it"*) ok "post-install tells the administrator to restart libvirtd" ;;
  *) not_ok "post-install tells the administrator to restart libvirtd" ;;
esac
if pgrep -x libvirtd >/dev/null || pgrep -x dwcpd >/dev/null; then
  not_ok "installing starts no daemon: $(pgrep -a 'libvirtd|java' | tr '\n' ' ')"
else
  ok "installing starts no daemon"
fi

# ---- layout ----
expect_mode /usr/bin/dwcp 755 root:root
expect_mode /usr/bin/dwcpd 755 root:root
expect_mode /usr/lib/systemd/system/dwcpd.service 644 root:root
expect_mode /etc/default/dwcpd 644 root:root
expect_mode /etc/dwcp 750 root:dwcp
expect_mode /etc/dwcp/tls 750 root:dwcp
expect_mode /etc/dwcp/dwcpd.properties 640 root:dwcp
expect_mode /etc/dwcp/hook.conf 644 root:root
expect_mode /etc/libvirt/hooks/qemu.d/50-dwcp 755 root:root
expect_mode /var/lib/dwcp 750 dwcp:dwcp
expect_mode /etc 755 root:root
expect_mode /var/lib 755 root:root
for jar in dwcp-plugin dwcp-qemu-migration netty-transport-native-epoll guice picocli bcpkix-jdk18on slf4j-simple \
    libvirt jna jackson-databind netty-codec-http \
    prometheus-metrics-core prometheus-metrics-exposition-textformats prometheus-metrics-exporter-httpserver; do
  check "/usr/share/dwcp/lib holds $jar" sh -c "ls '$root'/usr/share/dwcp/lib/$jar-*.jar"
done
# documentation: licences (DEP-5), man pages (gzipped, section 1 for dwcp, 8 for the daemon), bash completions
contents=$(dpkg -c "$deb" | awk '{print $NF}')
man_pages="/usr/share/man/man1/dwcp.1.gz /usr/share/man/man1/dwcp-migrate.1.gz /usr/share/man/man1/dwcp-evacuate.1.gz /usr/share/man/man1/dwcp-status.1.gz /usr/share/man/man1/dwcp-stream.1.gz
  /usr/share/man/man1/dwcp-baselines.1.gz /usr/share/man/man1/dwcp-baselines-remove.1.gz
  /usr/share/man/man8/dwcpd.8.gz /usr/share/man/man8/dwcpd-tls-ca.8.gz /usr/share/man/man8/dwcpd-tls-host.8.gz"
completions="/usr/share/bash-completion/completions/dwcp /usr/share/bash-completion/completions/dwcpd"
for file in /usr/share/doc/dwcp/copyright $man_pages $completions; do
  check "dpkg -c lists $file" sh -c "printf '%s\n' '$contents' | grep -qxF '.$file'"
  expect_mode "$file" 644 root:root
done
copyright=$root/usr/share/doc/dwcp/copyright
check "copyright is machine-readable (DEP-5)" grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' "$copyright"
check "copyright: dwcp is Apache-2.0" sh -c "grep -A2 -x 'Files: \*' '$copyright' | grep -qx 'License: Apache-2.0'"
# every bundled jar is named by a Files: pattern of its own (a new dependency needs its licence here)
patterns=$(awk '/^Files:/ {sub(/^Files: */, ""); print; more=1; next} more && /^ +[^ ]/ {sub(/^ +/, ""); print; next} {more=0}' "$copyright" | grep -v '^\*$')
unnamed=
for jar in "$root"/usr/share/dwcp/lib/*.jar; do
  relative=${jar#"$root/"}
  case ${relative##*/} in dwcp-*) continue ;; esac   # DWCP's own jars: "Files: *"
  named=no
  for pattern in $patterns; do
    # shellcheck disable=SC2254 # the pattern is a glob
    case $relative in $pattern) named=yes; break ;; esac
  done
  [ $named = yes ] || unnamed="$unnamed ${relative##*/}"
done
if [ -z "$unnamed" ]; then ok "copyright names the licence of every bundled jar"; else not_ok "copyright names the licence of every bundled jar: not of$unnamed"; fi
for page in $man_pages; do
  name=${page##*/}; name=${name%.gz}; section=${name##*.}; name=${name%.*}
  check "$page is gzip" gzip -t "$root$page"
  # .TH "NAME" "SECTION" ...: roff writes the name in capitals, a hyphen as \-
  title=$(zcat "$root$page" | sed -n 's/\\-/-/g; s/^\.TH "\([^"]*\)" "\([^"]*\)".*/\1(\2)/p' | head -1 | tr '[:upper:]' '[:lower:]')
  if [ "$title" = "$name($section)" ]; then ok "$page is the roff page $name($section)"; else not_ok "$page is the roff page $name($section): .TH says '$title'"; fi
done
check "dwcpd(8) lists the configuration keys" sh -c "zcat '$root/usr/share/man/man8/dwcpd.8.gz' | grep -q 'amst.window'"
for command in dwcp dwcpd; do
  check "bash completes $command (complete -p $command)" \
    in_root bash -c ". /usr/share/bash-completion/completions/$command && complete -p $command | grep -q _complete_$command"
done
if [ "$had_hooks_qemu" = yes ]; then
  check "the existing /etc/libvirt/hooks/qemu is untouched" cmp /etc/libvirt/hooks/qemu "$root/etc/libvirt/hooks/qemu"
else
  check "no /etc/libvirt/hooks/qemu is created" test ! -e "$root/etc/libvirt/hooks/qemu"
fi
conffiles=$(in_root dpkg-query -W -f='${Conffiles}\n' dwcp | awk 'NF {print $1}' | sort | tr '\n' ' ')
expected_conffiles="/etc/default/dwcpd /etc/dwcp/dwcpd.properties /etc/dwcp/hook.conf /etc/libvirt/hooks/qemu.d/50-dwcp "
if [ "$conffiles" = "$expected_conffiles" ]; then ok "conffiles: $conffiles"; else not_ok "conffiles are $expected_conffiles: they are '$conffiles'"; fi
user=$(in_root getent passwd dwcp)
uid=$(printf '%s' "$user" | cut -d: -f3)
case $user in
  dwcp:*:/var/lib/dwcp:/usr/sbin/nologin) [ "$uid" -lt 1000 ] && ok "system user dwcp: $user" || not_ok "dwcp is a system user: uid $uid" ;;
  *) not_ok "system user dwcp with home /var/lib/dwcp and no shell: '$user'" ;;
esac
unit=$root/usr/lib/systemd/system/dwcpd.service
for line in "User=dwcp" "Environment=MALLOC_ARENA_MAX=2" "EnvironmentFile=-/etc/default/dwcpd" "SuccessExitStatus=143" "After=network-online.target" \
    "Wants=network-online.target" "ExecStart=/usr/bin/dwcpd \$DWCPD_OPTS" "RuntimeDirectory=dwcp" "WantedBy=multi-user.target"; do
  check "dwcpd.service has $line" grep -qxF "$line" "$unit"
done

# ---- commands ----
for command in "dwcpd --help" "dwcp --help" "dwcp migrate --help" "dwcp evacuate --help" "dwcp status --help" "dwcp baselines --help" "/etc/libvirt/hooks/qemu.d/50-dwcp --help"; do
  # shellcheck disable=SC2086 # the command and its option
  if out=$(in_root $command 2>&1) && printf '%s' "$out" | grep -q 'Usage'; then
    ok "$command answers with its usage"
  else
    not_ok "$command answers with its usage: $(printf '%s' "$out" | head -c 300 | tr '\n' ' ')"
  fi
done
for command in "dwcp --version" "dwcpd --version"; do
  # shellcheck disable=SC2086
  if out=$(in_root $command 2>&1) && [ -n "$out" ]; then
    ok "$command answers: $(printf '%s' "$out" | head -1)"
  else
    not_ok "$command answers: exit $?: $(printf '%s' "$out" | head -c 300 | tr '\n' ' ')"
  fi
done

# dwcp migrate --to-region: in --help and the man page; with --dry-run a usage error (it would need dwcpd)
if out=$(in_root dwcp migrate --help 2>&1) && printf '%s' "$out" | grep -q -- '--to-region=REGION'; then
  ok "dwcp migrate --help lists --to-region"
else
  not_ok "dwcp migrate --help lists --to-region: $(printf '%s' "$out" | head -c 300 | tr '\n' ' ')"
fi
if out=$(in_root dwcp evacuate --help 2>&1) && printf '%s' "$out" | grep -q -- '--fixed-concurrency'; then
  ok "dwcp evacuate --help lists --fixed-concurrency"
else
  not_ok "dwcp evacuate --help lists --fixed-concurrency: $(printf '%s' "$out" | head -c 300 | tr '\n' ' ')"
fi
check "dwcp-evacuate(1) documents --fixed-concurrency" sh -c "zcat '$root/usr/share/man/man1/dwcp-evacuate.1.gz' | sed 's/\\\\-/-/g' | grep -q -- 'fixed-concurrency'"
check "dwcp-migrate(1) documents --to-region" sh -c "zcat '$root/usr/share/man/man1/dwcp-migrate.1.gz' | sed 's/\\\\-/-/g' | grep -q -- 'to-region'"
out=$(in_root dwcp migrate vm1 --to-region eu-west --dry-run 2>&1); status=$?
if [ $status -eq 2 ] && printf '%s' "$out" | grep -q 'cannot choose a host of region eu-west: give TARGET'; then
  ok "dwcp migrate --to-region --dry-run is a usage error: $out"
else
  not_ok "dwcp migrate --to-region --dry-run exits 2 saying why: exit $status '$(printf '%s' "$out" | head -c 300 | tr '\n' ' ')'"
fi
# dwcp migrate --dry-run prints the virsh command line (stdout; the socket is the migration's own, named by dwcpd
# on announcement, which stderr explains) and contacts neither libvirt nor dwcpd
dry_run_expected="virsh -c qemu:///system migrate --live --p2p --persistent --undefinesource vm1 qemu+tcp://dest/system --migrateuri unix:///run/dwcp/peer/dest1/MIGRATION-ID.sock"
if out=$(in_root dwcp migrate --dry-run vm1 'dwcp://dest?peer=dest1&dest-uri=qemu%2Btcp%3A%2F%2Fdest%2Fsystem' 2>/dev/null) \
    && [ "$out" = "$dry_run_expected" ]; then
  ok "dwcp migrate --dry-run prints the virsh command line: $out"
else
  not_ok "dwcp migrate --dry-run prints '$dry_run_expected' with exit 0: exit $? '$(printf '%s' "$out" | head -c 300 | tr '\n' ' ')'"
fi
check "the DEB depends on libvirt0 (libvirt-java loads libvirt.so.0)" sh -c "dpkg-deb -f '$deb' Depends | grep -qw libvirt0"

# ---- the daemon, started as dwcpd.service would start it ----
# what an administrator does first: node.name and TLS (files of their own under /etc/dwcp)
in_root sed -i 's/^#node.name=$/node.name=pkgtest/' /etc/dwcp/dwcpd.properties
check "dwcpd tls-ca creates the site CA" in_root dwcpd tls-ca --dir /etc/dwcp/tls
check "dwcpd tls-host issues the host certificate" in_root dwcpd tls-host --name pkgtest --ca-dir /etc/dwcp/tls
in_root chgrp dwcp /etc/dwcp/tls/host.key /etc/dwcp/tls/host.pem /etc/dwcp/tls/ca.pem 2>/dev/null
in_root chmod 0640 /etc/dwcp/tls/host.key 2>/dev/null
# the vagrant test bed makes its CA with openssl (vagrant/make-ca.sh): dwcpd must accept it
make_ca=$(dirname "$(readlink -f "$0")")/../../../../vagrant/make-ca.sh
if [ -x "$make_ca" ] && command -v openssl >/dev/null; then
  cp "$make_ca" "$root/tmp/make-ca.sh"
  check "dwcpd tls-host issues a certificate with the vagrant test bed's openssl CA" \
    in_root sh -c '/tmp/make-ca.sh /tmp/vagrant-ca >/dev/null && dwcpd tls-host --name r1h1 --ca-dir /tmp/vagrant-ca'
fi
# what systemd does: RuntimeDirectory, User/Group, EnvironmentFile, WorkingDirectory, ExecStart
unit_value() { sed -n "s/^$1=//p" "$unit" | head -1; }
exec_start=$(unit_value ExecStart) unit_user=$(unit_value User) unit_group=$(unit_value Group)
environment_file=$(unit_value EnvironmentFile) working_directory=$(unit_value WorkingDirectory)
environment_file=${environment_file#-}
in_root install -d -o "$unit_user" -g "$unit_group" -m "$(unit_value RuntimeDirectoryMode)" /run/dwcp
cat > "$root/tmp/start-unit" <<START
#!/bin/sh
set -a; [ -r "$environment_file" ] && . "$environment_file"; set +a
cd "$working_directory" || exit 1
eval "exec $exec_start"
START
chmod 755 "$root/tmp/start-unit"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  setpriv --reuid="$unit_user" --regid="$unit_group" --init-groups /tmp/start-unit > "$work/dwcpd.log" 2>&1 &
daemon=$!
started=no
for _ in $(seq 1 120); do
  if in_root curl -sf -o /dev/null --max-time 1 http://127.0.0.1:9470/metrics; then started=yes; break; fi
  kill -0 $daemon 2>/dev/null || break
  sleep 0.5
done
if [ $started = yes ]; then
  ok "dwcpd starts as the unit's ExecStart ($exec_start), user $unit_user, and serves /metrics"
  # ps names users with this machine's /etc/passwd: compare uids with the overlay's
  daemon_uid=$(ps -o uid= -p "$(pgrep -f io.dwcp.daemon.DwcpdCommand | head -1)" 2>/dev/null | tr -d ' ')
  if [ -n "$daemon_uid" ] && [ "$daemon_uid" = "$(in_root id -u dwcp)" ]; then ok "dwcpd runs as dwcp"; else not_ok "dwcpd runs as dwcp: uid '$daemon_uid'"; fi
  check "dwcpd creates its control socket /run/dwcp/control.sock" test -S "$root/run/dwcp/control.sock"
  code=$(in_root curl -s -o /tmp/status.json -w '%{http_code}' --max-time 5 --unix-socket /run/dwcp/control.sock http://dwcpd/v1/status 2>&1)
  if [ "$code" = 200 ] && grep -q '"node":"pkgtest"' "$root/tmp/status.json"; then
    ok "GET /v1/status on the control socket answers 200"
  else
    not_ok "GET /v1/status on the control socket answers 200 with node pkgtest: '$code' $(head -c 300 "$root/tmp/status.json" 2>/dev/null)"
  fi
  kill -TERM $daemon; wait $daemon; status=$?
  case $status in 0 | 143) ok "dwcpd stops on SIGTERM with status $status (SuccessExitStatus=143)" ;; *) not_ok "dwcpd stops on SIGTERM with 0 or 143: $status" ;; esac
  check "the control socket is gone after dwcpd stopped" test ! -e "$root/run/dwcp/control.sock"
else
  not_ok "dwcpd starts as the unit's ExecStart ($exec_start) and serves /metrics"
  kill -KILL $daemon 2>/dev/null; wait $daemon 2>/dev/null
fi
detail < "$work/dwcpd.log" | tail -20

# ---- upgrade: a newer package whose default configuration changed ----
in_root dpkg-deb -R /tmp/dwcp.deb /tmp/upgrade
version=$(sed -n 's/^Version: //p' "$root/tmp/upgrade/DEBIAN/control")
sed -i "s/^Version: .*/Version: $version+upgradetest/" "$root/tmp/upgrade/DEBIAN/control"
echo "# changed by the upgrade" >> "$root/tmp/upgrade/etc/dwcp/dwcpd.properties"
echo "# changed by the upgrade" >> "$root/tmp/upgrade/etc/dwcp/hook.conf"
(cd "$root/tmp/upgrade" && find . -type f ! -path './DEBIAN/*' -printf '%P\n' | sort | xargs md5sum > DEBIAN/md5sums)
in_root dpkg-deb -b /tmp/upgrade /tmp/dwcp-upgrade.deb >/dev/null
if out=$(in_root dpkg -i --force-confold /tmp/dwcp-upgrade.deb 2>&1); then ok "dpkg -i upgrades to $version+upgradetest"; else not_ok "dpkg -i upgrades: exit $?"; fi
printf '%s\n' "$out" | detail
check "the administrator's dwcpd.properties is kept on upgrade" grep -qx 'node.name=pkgtest' "$root/etc/dwcp/dwcpd.properties"
check "the new default of a changed conffile is left beside it" grep -q 'changed by the upgrade' "$root/etc/dwcp/dwcpd.properties.dpkg-dist"
check "an unchanged conffile (hook.conf) is upgraded" grep -q 'changed by the upgrade' "$root/etc/dwcp/hook.conf"

# ---- purge ----
if out=$(in_root dpkg --purge dwcp 2>&1); then ok "dpkg --purge removes the package"; else not_ok "dpkg --purge: exit $?"; fi
printf '%s\n' "$out" | detail
check "user dwcp is gone" sh -c "! chroot '$root' getent passwd dwcp"
check "group dwcp is gone" sh -c "! chroot '$root' getent group dwcp"
if [ "$had_qemu_d" = no ]; then check "/etc/libvirt/hooks/qemu.d is gone" test ! -e "$root/etc/libvirt/hooks/qemu.d"; fi
# The audit: every file of the upper layer that differs from this machine's. Left alone: dpkg's and
# the shadow tools' own records, and this test's files in /tmp and /run (tmpfs mounts, not upper).
admin_files="etc/dwcp/tls/ca.key etc/dwcp/tls/ca.pem etc/dwcp/tls/host.key etc/dwcp/tls/host.pem"
leftovers=
while IFS= read -r -d '' path; do
  relative=${path#"$work/upper/"}
  case $relative in
    var/lib/dpkg/* | var/log/dpkg.log | var/log/lastlog | var/log/faillog | \
    etc/passwd- | etc/group- | etc/shadow- | etc/gshadow- | etc/subuid- | etc/subgid- | \
    var/cache/debconf/* | var/cache/ldconfig/* | etc/ld.so.cache | var/cache/man/*) continue ;;
  esac
  if [ -c "$path" ]; then leftovers="$leftovers deleted:/$relative"; continue; fi
  if [ -d "$path" ]; then [ -d "/$relative" ] || leftovers="$leftovers dir:/$relative"; continue; fi
  if [ -e "/$relative" ] && cmp -s "$path" "/$relative"; then continue; fi
  case " $admin_files " in *" $relative "*) continue ;; esac
  leftovers="$leftovers /$relative"
done < <(find "$work/upper" -mindepth 1 -print0)
expected_dirs=" dir:/etc/dwcp dir:/etc/dwcp/tls"
if [ "$leftovers" = "$expected_dirs" ]; then
  ok "purge leaves only what the administrator added (/etc/dwcp/tls/{ca,host}.{pem,key} and their folders)"
else
  not_ok "purge leaves only what the administrator added: also left:${leftovers#"$expected_dirs"}"
fi
for file in $admin_files; do check "the administrator's /$file is kept" test -f "$root/$file"; done

# ---- RPM ----
if [ -n "$rpm" ]; then
  files=$(rpm -qlp "$rpm" 2>/dev/null | grep -v '^/usr/share/dwcp/lib/.' | tr '\n' ' ')
  expected="/etc/default/dwcpd /etc/dwcp /etc/dwcp/dwcpd.properties /etc/dwcp/hook.conf /etc/dwcp/tls /etc/libvirt/hooks/qemu.d /etc/libvirt/hooks/qemu.d/50-dwcp /usr/bin/dwcp /usr/bin/dwcpd /usr/lib/systemd/system/dwcpd.service /usr/share/bash-completion/completions/dwcp /usr/share/bash-completion/completions/dwcpd /usr/share/doc/dwcp /usr/share/doc/dwcp/LICENSE /usr/share/doc/dwcp/README.md /usr/share/dwcp /usr/share/dwcp/lib /usr/share/man/man1/dwcp-baselines-remove.1.gz /usr/share/man/man1/dwcp-baselines.1.gz /usr/share/man/man1/dwcp-evacuate.1.gz /usr/share/man/man1/dwcp-migrate.1.gz /usr/share/man/man1/dwcp-status.1.gz /usr/share/man/man1/dwcp-stream.1.gz /usr/share/man/man1/dwcp.1.gz /usr/share/man/man8/dwcpd-tls-ca.8.gz /usr/share/man/man8/dwcpd-tls-host.8.gz /usr/share/man/man8/dwcpd.8.gz /var/lib/dwcp "
  if [ "$files" = "$expected" ]; then ok "rpm -qlp shows the layout: $files"; else not_ok "rpm -qlp shows $expected: it shows $files"; fi
  check "rpm -qlp shows the jars under /usr/share/dwcp/lib" sh -c "rpm -qlp '$rpm' 2>/dev/null | grep -q '^/usr/share/dwcp/lib/dwcp-plugin-.*\.jar$'"
  config=$(rpm -qp --configfiles "$rpm" 2>/dev/null | sort | tr '\n' ' ')
  [ "$config" = "$expected_conffiles" ] && ok "RPM %config files: $config" || not_ok "RPM %config files are $expected_conffiles: $config"
  check "RPM: /etc/dwcp/dwcpd.properties is %config(noreplace)" sh -c "rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' '$rpm' 2>/dev/null | grep -qx '/etc/dwcp/dwcpd.properties cn'"
  check "RPM requires java-17-openjdk-headless and curl" sh -c "rpm -qpR '$rpm' 2>/dev/null | grep -qx java-17-openjdk-headless && rpm -qpR '$rpm' 2>/dev/null | grep -qx curl"
  check "RPM: LICENSE and the man pages are documentation" sh -c "rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' '$rpm' 2>/dev/null | grep -qx '/usr/share/doc/dwcp/LICENSE d' && rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' '$rpm' 2>/dev/null | grep -qx '/usr/share/man/man8/dwcpd.8.gz d'"
  check "RPM licence is Apache-2.0" sh -c "rpm -qp --qf '%{LICENSE}' '$rpm' 2>/dev/null | grep -qx Apache-2.0"
  check "RPM requires libvirt-libs (libvirt-java loads libvirt.so.0)" sh -c "rpm -qpR '$rpm' 2>/dev/null | grep -qx libvirt-libs"
  check "RPM scripts are the shared install scripts" sh -c "rpm -qp --scripts '$rpm' 2>/dev/null | grep -q 'One script for DEB (preinst) and RPM (%pre)'"
  # install and erase with rpm itself: the shared scripts with RPM's arguments (1, then 0)
  rpm_db="--dbpath /var/lib/dwcp-rpm-test"
  # shellcheck disable=SC2086
  if out=$(in_root rpm -i --nodeps $rpm_db /tmp/dwcp.rpm 2>&1); then ok "rpm -i installs the RPM (scripts with \$1=1)"; else not_ok "rpm -i installs the RPM: exit $?"; fi
  printf '%s\n' "$out" | detail
  check "RPM install created user dwcp" in_root getent passwd dwcp
  expect_mode /etc/dwcp/dwcpd.properties 640 root:dwcp
  expect_mode /var/lib/dwcp 750 dwcp:dwcp
  check "RPM: dwcpd --help answers" in_root dwcpd --help
  # shellcheck disable=SC2086
  if out=$(in_root rpm -e --nodeps $rpm_db dwcp 2>&1); then ok "rpm -e erases the RPM (scripts with \$1=0)"; else not_ok "rpm -e erases the RPM: exit $?"; fi
  printf '%s\n' "$out" | detail
  check "RPM erase removed the files" test ! -e "$root/usr/bin/dwcpd"
fi

echo "# $failures failed"
[ $failures -eq 0 ]
