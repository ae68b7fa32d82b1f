# Shared helpers of the VM lane scripts (sourced by run.sh and lane.sh).
# Needs bash and root (apt-get, mknod).

vm_log() { echo "vm: $*" >&2; }
vm_die() { echo "vm: FAIL: $*" >&2; exit 1; }

# vm_apt_update runs `apt-get update` at most once per lane, even across
# run.sh and lane.sh (HULLVM_APT_UPDATED is exported). A source other than
# Debian's failing to refresh is not fatal: the install that follows says
# whether what we need could be had.
vm_apt_update() {
	[ -n "${HULLVM_APT_UPDATED:-}" ] && return 0
	vm_log "apt-get update"
	apt-get update -qq || vm_log "apt-get update reported errors; going on with the lists there are"
	export HULLVM_APT_UPDATED=1
}

# vm_ensure_pkgs PKG... installs the Debian packages that are missing.
vm_ensure_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	vm_apt_update
	vm_log "installing ${missing[*]}"
	local log
	log=$(mktemp)
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		vm_die "apt-get install ${missing[*]} failed"
	fi
	rm -f "$log"
}

# vm_now prints seconds since the epoch with centiseconds.
vm_now() { date +%s.%N | cut -c1-13; }

# vm_since T0 prints the seconds elapsed since vm_now returned T0.
vm_since() { awk -v a="$1" -v b="$(vm_now)" 'BEGIN { printf "%.1f", b - a }'; }

# VM_CRIU_MODULES: the modules criu 3.17.1 needs on the VM's 6.1 kernel
# (criu-lane.sh explains each; systemd-lane.sh loads them too for its
# checkpoint step, systemd-criu.sh).
VM_CRIU_MODULES="crc32c_generic crc32c-intel nf_tables nft_compat nft_ct nft_chain_nat nft_reject_inet nf_conntrack_netlink dummy xt_tcpudp xt_conntrack xt_mark xt_comment unix_diag inet_diag tcp_diag udp_diag raw_diag af_packet_diag netlink_diag"
