// Package netdev moves host network devices into a container's network
// namespace (linux.netDevices, runtime-spec v1.3.0). It runs in the
// parent, in the host's network namespace, once the init exists and before
// it is sent its config, as runc does: the container's processes find the
// devices in place from their first instruction.
//
// The netlink requests go through github.com/vishvananda/netlink (what runc
// uses) rather than code of ours.
package netdev

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// MoveAll moves every device of spec's linux.netDevices into the network
// namespace at nsPath (the init's own, or the one it joined). It stops at
// the first failure: the devices already moved come back when the
// namespace goes (the kernel does that for physical devices, and virtual
// ones go with it), which is the spec's rule for a failed create.
func MoveAll(spec *specs.Spec, nsPath string) error {
	if spec == nil || spec.Linux == nil || len(spec.Linux.NetDevices) == 0 {
		return nil
	}
	ns, err := os.Open(nsPath)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", nsPath, err)
	}
	defer ns.Close()
	for name, dev := range spec.Linux.NetDevices {
		if err := move(name, dev.Name, ns, nsPath); err != nil {
			// runc's words (its tests and callers see them).
			return fmt.Errorf("move netDevice %s to namespace %s: %w", name, nsPath, err)
		}
	}
	return nil
}

// move renames and moves one device in a single RTM_NEWLINK (so that the
// new name never has to be free on the host), then gives it back, inside
// the namespace, its permanent addresses of global scope (the kernel drops
// a device's addresses when it changes namespace) and brings it up. Its MTU
// and hardware address move with it.
func move(name, newName string, ns *os.File, nsPath string) error {
	link, err := netlink.LinkByName(name)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("link not found for interface %s on runtime namespace: %w", name, err)
	}
	if err := netlink.LinkSetDown(link); err != nil {
		return fmt.Errorf("fail to set link down: %w", err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("fail to get ip addresses: %w", err)
	}
	if newName == "" {
		newName = name
	}
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(link.Attrs().Index)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(newName)))
	req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(ns.Fd()))))
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("fail to move network device %s to network namespace %s: %w", name, nsPath, err)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(int(ns.Fd())))
	if err != nil {
		return fmt.Errorf("netlink in namespace %s: %w", nsPath, err)
	}
	defer h.Close()
	moved, err := h.LinkByName(newName)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("link not found for interface %s on namespace %s: %w", newName, nsPath, err)
	}
	for _, a := range addrs {
		if a.Flags&unix.IFA_F_PERMANENT == 0 || a.Scope != unix.RT_SCOPE_UNIVERSE {
			slog.Debug("network device address left behind: not permanent or not of global scope", "device", name, "address", a.String())
			continue
		}
		if err := h.AddrAdd(moved, &netlink.Addr{IPNet: a.IPNet}); err != nil {
			return fmt.Errorf("fail to set up address %s on namespace %s: %w", a.String(), nsPath, err)
		}
	}
	if err := h.LinkSetUp(moved); err != nil {
		return fmt.Errorf("fail to set up interface %s on namespace %s: %w", newName, nsPath, err)
	}
	return nil
}
