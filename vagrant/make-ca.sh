#!/bin/sh
# Makes the test bed's CA (EC P-256, PKCS#8 key: what dwcpd tls-host reads) in DIR unless it is
# there. Runs on the machine that runs vagrant (a trigger of the Vagrantfile); needs openssl.
set -eu
dir=${1:?usage: make-ca.sh DIR}
[ -s "$dir/ca.pem" ] && [ -s "$dir/ca.key" ] && exit 0
command -v openssl >/dev/null || { echo "make-ca: openssl is needed on this machine" >&2; exit 1; }
mkdir -p "$dir"
umask 077
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -subj "/CN=DWCP vagrant test bed CA" -days 825 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$dir/ca.pem"
echo "make-ca: made the test bed CA in $dir"
