#!/bin/sh
# otherservers.sh: make Cyrus IMAP and Courier-IMAP runnable for
# test/cyrustest and test/couriertest without installing them.
#
# cyrus-imapd and courier-imap conflict with dovecot-imapd (all provide
# imap-server), which the rest of the tests need. So their .debs (and those
# of cyrus-common and courier-base) are downloaded with apt-get download into
# $DEST/debs and unpacked with dpkg-deb -x into $DEST/cyrus and $DEST/courier;
# only their other runtime dependencies (libraries, sasl2-bin, courier-authlib,
# courier-authlib-userdb, gamin) are apt-installed. Nothing conflicting is
# installed and nothing is removed: an install that would remove a package is
# not done.
#
# Idempotent and quick when everything is in place. Never fails: on a
# problem it prints a warning and exits 0, and the tests skip with the reason
# (cyrustest.Available, couriertest.Available).
#
# Usage: scripts/otherservers.sh            (as root, Debian 12)
#        MAILRULES_TEST_SERVERS=/elsewhere scripts/otherservers.sh

set -u
DEST=${MAILRULES_TEST_SERVERS:-/opt/mailrules-test}
CACHE=$DEST/debs
export DEBIAN_FRONTEND=noninteractive

warn() { echo "otherservers: warning: $*; the Cyrus/Courier tests will skip" >&2; }

# Unpacked .debs of each server.
CYRUS_DEBS="cyrus-common cyrus-imapd"
COURIER_DEBS="courier-base courier-imap"
# Library dependencies that no server process here needs (the virus scanner
# and the Zephyr notifier), left out because they are big.
SKIP_DEPS="libclamav12 libzephyr4"

installed() { # all packages $* installed?
	[ -z "$*" ] && return 0
	st=$(dpkg-query -W -f '${db:Status-Abbrev}\n' "$@" 2>/dev/null) || return 1
	! printf '%s\n' "$st" | grep -qv '^ii'
}

marker_ok() { # $1: server name
	m=$DEST/$1/.unpacked
	[ -f "$m" ] || return 1
	# shellcheck disable=SC2046
	installed $(sed -n 's/^deps: //p' "$m")
}

if marker_ok cyrus && marker_ok courier && [ -d /etc/courier ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	warn "not root: cannot install Cyrus/Courier dependencies"
	exit 0
fi
for tool in apt-get apt-cache dpkg-deb dpkg-query; do
	command -v $tool >/dev/null 2>&1 || { warn "$tool missing (not Debian?)"; exit 0; }
done

updated=
apt_update() {
	[ -n "$updated" ] && return 0
	echo "otherservers: apt-get update"
	apt-get update -qq >/dev/null 2>&1 || warn "apt-get update failed"
	updated=1
}

# lib_deps PKG...: the library packages the given packages depend on (first
# alternative of each dependency, version constraints dropped), except the
# packages they unpack themselves and SKIP_DEPS.
lib_deps() {
	apt-cache show --no-all-versions "$@" 2>/dev/null |
		sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' | tr ',' '\n' |
		sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' |
		grep '^lib' | sort -u | while read -r p; do
			case " $CYRUS_DEBS $COURIER_DEBS $SKIP_DEPS " in *" $p "*) continue ;; esac
			echo "$p"
		done
}

# unpack NAME PKG...: download PKG... and unpack them into $DEST/NAME.
unpack() {
	name=$1
	shift
	if ! apt-cache show --no-all-versions "$@" >/dev/null 2>&1; then
		apt_update
	fi
	deps="$(lib_deps "$@" | tr '\n' ' ')"
	case $name in
	cyrus) deps="$deps sasl2-bin libsasl2-modules-db" ;;
	courier) deps="$deps courier-authlib courier-authlib-userdb gamin libgamin0" ;;
	esac
	if [ -z "$deps" ]; then
		warn "cannot read the dependencies of $* (apt-cache show failed)"
		return 1
	fi
	# shellcheck disable=SC2086
	if ! installed $deps; then
		# Refuse anything that would remove a package (e.g. dovecot-imapd).
		# shellcheck disable=SC2086
		sim=$(apt-get install -s -y --no-install-recommends $deps 2>&1) || {
			apt_update
			# shellcheck disable=SC2086
			sim=$(apt-get install -s -y --no-install-recommends $deps 2>&1) || {
				warn "cannot install $name dependencies: $(printf '%s' "$sim" | tail -n 3)"
				return 1
			}
		}
		if printf '%s\n' "$sim" | grep -q '^Remv '; then
			warn "installing $name dependencies would remove: $(printf '%s\n' "$sim" | sed -n 's/^Remv \([^ ]*\).*/\1/p' | tr '\n' ' ')"
			return 1
		fi
		echo "otherservers: apt-get install $deps"
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $deps >/dev/null || {
			warn "apt-get install of $name dependencies failed"
			return 1
		}
	fi
	mkdir -p "$CACHE" || return 1
	chmod 755 "$CACHE"
	debs=
	for p in "$@"; do
		v=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: //p')
		f=$(ls "$CACHE/${p}_"*.deb 2>/dev/null | grep -F "_$(printf '%s' "$v" | sed 's/^[0-9]*://')_" | head -n 1)
		if [ -z "$v" ] || [ -z "$f" ]; then
			echo "otherservers: apt-get download $p"
			(cd "$CACHE" && apt-get download -q "$p" >/dev/null 2>&1) ||
				{ apt_update && (cd "$CACHE" && apt-get download -q "$p" >/dev/null 2>&1); } || {
				warn "apt-get download $p failed"
				return 1
			}
			f=$(ls -t "$CACHE/${p}_"*.deb 2>/dev/null | head -n 1)
		fi
		debs="$debs $f"
	done
	tmp=$DEST/.$name.tmp
	rm -rf "$tmp" && mkdir -p "$tmp" || return 1
	for f in $debs; do
		dpkg-deb -x "$f" "$tmp" || { warn "dpkg-deb -x $f failed"; rm -rf "$tmp"; return 1; }
	done
	{
		echo "debs:$(for f in $debs; do printf ' %s' "$(basename "$f")"; done)"
		echo "deps: $deps"
	} >"$tmp/.unpacked"
	rm -rf "${DEST:?}/$name" && mv "$tmp" "$DEST/$name" || return 1
	echo "otherservers: $name unpacked in $DEST/$name"
}

mkdir -p "$DEST" || { warn "cannot create $DEST"; exit 0; }
chmod 755 "$DEST"
# shellcheck disable=SC2086
marker_ok cyrus || unpack cyrus $CYRUS_DEBS || warn "Cyrus not unpacked"
# shellcheck disable=SC2086
marker_ok courier || unpack courier $COURIER_DEBS || warn "Courier not unpacked"
# Mount points for couriertest's private /etc/courier and /run/courier
# (courier-authlib's compiled-in paths); empty on the host.
mkdir -p /etc/courier /run/courier 2>/dev/null || true
exit 0
