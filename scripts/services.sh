#!/usr/bin/env bash
# Make sure what the tests need is installed and running: PostgreSQL and Mosquitto from Debian
# (started when stopped), and Chromium with its driver for the browser tests.
set -euo pipefail
sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
updated=0
apt_install() {  # apt_install WHY PACKAGE...
  local why=$1; shift
  echo "services: installing $* from Debian ($why)"
  if [ "$updated" = 0 ]; then $sudo_cmd apt-get update -qq; updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

command -v pg_ctlcluster >/dev/null || apt_install "the database every integration test uses" postgresql
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] ||
  apt_install "the MQTT broker the tests start privately" mosquitto mosquitto-clients
command -v mosquitto_pub >/dev/null || apt_install "MQTT command-line clients" mosquitto-clients
command -v chromium >/dev/null || apt_install "the browser the dashboard tests drive" chromium
command -v chromedriver >/dev/null || apt_install "the browser's driver" chromium-driver

# PostgreSQL: the tests create a throwaway database on it through 127.0.0.1:5432 with trust auth.
cluster_version=$(ls /etc/postgresql | sort -V | tail -n1)
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "services: starting PostgreSQL $cluster_version on 127.0.0.1:5432"
  $sudo_cmd pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  # A fresh Debian install authenticates local TCP with passwords: allow trust on loopback only.
  echo "services: allowing trust authentication on loopback for the tests"
  hba=$(ls /etc/postgresql/"$cluster_version"/main/pg_hba.conf)
  $sudo_cmd sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "$hba"
  $sudo_cmd pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main reload
fi

# Mosquitto: the tests start private brokers from deploy/mosquitto; only the binary is needed.
# The shared broker on 1883 is started too, so a developer's `vward sim` has something to talk to.
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "services: starting Mosquitto on 127.0.0.1:1883"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
fi
