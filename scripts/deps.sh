#!/bin/sh
# Install the Debian packages keydir needs, only those missing.
#   deps.sh run    build and run keydird
#   deps.sh test   also everything make check uses
#   deps.sh fuzz   what make fuzz needs: clang and its libFuzzer
set -eu
RUN="build-essential pkg-config libmicrohttpd-dev librnp-dev libsqlite3-dev
libcurl4-openssl-dev libjansson-dev libsodium-dev libinih-dev libidn2-dev
libgpgme-dev libunistring-dev gettext nettle-dev libpq-dev"
TEST="$RUN postgresql gnupg dirmngr gpg-agent gpg-wks-client sq python3 python3-aiosmtpd curl jq
sqlite3 perl procps python3-cryptography chromium nginx openssl"
FUZZ="$RUN clang libclang-rt-14-dev"
# the browser tests' driver (tests/browser): node and npm, Debian's
# unless some other node is there already (its npm comes with it)
NODE=
command -v node >/dev/null || NODE="nodejs"
command -v npm >/dev/null || NODE="$NODE npm"
case "${1:-run}" in
run) want=$RUN ;;
test) want="$TEST $NODE" ;;
fuzz) want=$FUZZ ;;
*) echo "usage: $0 run|test|fuzz" >&2; exit 2 ;;
esac
missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
