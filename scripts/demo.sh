#!/usr/bin/env bash
# make demo: run the example rules (examples/demo.toml) over a fresh local
# Maildir of sample messages, through Dovecot's imap executable, then show
# what moved where. Needs Dovecot (make deps installs it) and bin/mailrules.
set -euo pipefail
cd "$(dirname "$0")/.."

imap=/usr/lib/dovecot/imap
[ -x "$imap" ] || { echo "demo: $imap not found; run 'make deps' (installs dovecot-imapd)" >&2; exit 1; }

demo=$(mktemp -d /tmp/mailrules-demo.XXXXXX)
chmod 755 "$demo"
maildir="$demo/Maildir"
mkdir -p "$maildir"/{cur,new,tmp}

# Deliver the samples, each with its Date header as the file time (Dovecot's
# INTERNALDATE); "flagged" samples get the Maildir F flag.
n=0
for f in examples/demo/mail/*.eml; do
	n=$((n + 1))
	name="$(date +%s).M${n}P$$.demo"
	dest="$maildir/new/$name"
	case "$f" in *flagged*) dest="$maildir/cur/$name:2,F" ;; esac
	cp "$f" "$dest"
	date=$(sed -n 's/^Date: \(.*\)\r$/\1/p' "$f" | head -1)
	[ -n "$date" ] && touch -d "$date" "$dest"
done

export MAILRULES_DEMO="$demo" MAILRULES_DEMO_OPTS=""
export HOME="$demo" USER="${USER:-$(id -un)}"
if [ "$(id -u)" = 0 ]; then
	# Dovecot will not serve mail as root: hand the Maildir to nobody.
	chown -R nobody:nogroup "$maildir"
	export USER=nobody MAILRULES_DEMO_OPTS="-o mail_uid=nobody -o mail_gid=nogroup"
fi

echo "== $n sample messages in $maildir; running the rules in examples/demo.toml"
./bin/mailrules run --all -c examples/demo.toml --state "$demo/state.db" --log-format console
echo
echo "== where the mail went"
# decode prints RFC 2047 encoded subjects readably when perl's Encode is there.
decode() {
	if perl -MEncode -e1 2>/dev/null; then
		perl -CS -MEncode -ne 'print Encode::decode("MIME-Header", $_)'
	else
		cat
	fi
}
show() {
	local dir=$1 label=$2 count
	count=$(find "$dir/cur" "$dir/new" -type f 2>/dev/null | wc -l)
	[ "$count" -gt 0 ] || [ "$label" = INBOX ] || return 0
	printf '%-28s %2d message(s)\n' "$label" "$count"
	find "$dir/cur" "$dir/new" -type f 2>/dev/null | sort | while read -r m; do
		subject=$(grep -m1 -i '^Subject:' "$m" | tr -d '\r' | cut -c10- | decode)
		flags=${m##*:2,}
		[ "$flags" = "$m" ] && flags=""
		printf '    %-60s %s\n' "${subject:0:60}" "${flags:+[$flags]}"
	done
}
show "$maildir" INBOX
for d in "$maildir"/.*/; do
	name=$(basename "$d")
	case "$name" in .|..) continue ;; esac
	show "$d" "${name#.}"
done
echo
echo "A second pass changes nothing (the state in $demo/state.db remembers what was done):"
./bin/mailrules run -c examples/demo.toml --state "$demo/state.db" --log-format console
