#!/bin/sh
# /payload/bin/go in the VM lane's guest, which has no Go toolchain. The
# integration suite builds some binaries itself (`go build -o OUT PKG`,
# e.g. hull-shim); lane.sh builds every main package of the module on the
# host into /payload/gobin/IMPORT-PATH (with / as %), and this serves `go build -o OUT
# PKG` from there. Anything else fails, saying so, also a build with
# -tags.
out= pkg=
[ "$1" = build ] && shift || { echo "go (VM lane stub): only 'go build -o OUT PKG' of a prebuilt package works here, not: go $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out=$2; shift 2 ;;
	# Prebuilt with the default tags only: a build asking for others
	# (the hullfaults fault build) must fail, not get the plain binary.
	-tags | -tags=*)
		echo "go (VM lane stub): no prebuilt binaries with build tags ($*)" >&2
		exit 1
		;;
	-ldflags) shift 2 ;;
	-*) shift ;;
	*) pkg=$1; shift ;;
	esac
done
src=/payload/gobin/$(echo "$pkg" | tr / %)
if [ -z "$out" ] || [ -z "$pkg" ] || [ ! -f "$src" ]; then
	echo "go (VM lane stub): no prebuilt $pkg (have: $(cd /payload/gobin 2>/dev/null && ls | tr % / | tr '\n' ' '))" >&2
	exit 1
fi
cp "$src" "$out" && chmod 755 "$out"
