#!/usr/bin/env bash
# A development certificate authority and a broker certificate signed by it, for Mosquitto's TLS
# listener (deploy/mosquitto/mosquitto-secure.conf). For development and tests only: production
# certificates come from the organisation's PKI.
#   usage: deploy/tls/make-dev-ca.sh OUT_DIR [HOSTNAME ...]   (localhost and 127.0.0.1 always included)
set -euo pipefail
out=${1:?usage: make-dev-ca.sh OUT_DIR [HOSTNAME ...]}
shift
san="DNS:localhost,IP:127.0.0.1"
for host in "$@"; do san="$san,DNS:$host"; done
days=825  # the longest validity clients such as Apple's accept for a server certificate

mkdir -p "$out"
cd "$out"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
    -subj "/CN=virtual ward development CA" -keyout ca.key -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=${1:-localhost}" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$san" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" \
    -extfile server.ext -out server.crt 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 644 ca.crt server.crt
echo "CA: $out/ca.crt (give to devices)  broker: $out/server.crt, $out/server.key  SAN: $san"
