#!/bin/sh
# Installs every Debian package that building and testing keyward needs.
# Idempotent: when everything is present it installs nothing and says so.
set -eu

PACKAGES="
build-essential
cmake
g++
clang-14
libclang-rt-14-dev
pkg-config
libssl-dev
libexpected-dev
nlohmann-json3-dev
libcli11-dev
libgtest-dev
libgmock-dev
libbenchmark-dev
libcurl4-openssl-dev
libcpp-httplib-dev
libqrencode-dev
libssh-dev
openssh-client
openssh-server
python3
hyperfine
wrk
chromium
nodejs
"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
