package loopback

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Up sets "lo" up in the calling process's network namespace, as
// runc does in a new one (its only interface, down when made), with an
// RTM_NEWLINK netlink request.
func Up() error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("set lo up: netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("set lo up: bind netlink socket: %w", err)
	}
	req := newLinkUpRequest("lo", 1)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("set lo up: send netlink request: %w", err)
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("set lo up: read netlink answer: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("set lo up: parse netlink answer: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != 1 || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return fmt.Errorf("set lo up: short netlink answer")
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
				return fmt.Errorf("set lo up: %w", unix.Errno(-code))
			}
			return nil
		}
	}
}

// newLinkUpRequest is an RTM_NEWLINK request setting IFF_UP on the
// interface named name, with an acknowledgement asked for.
func newLinkUpRequest(name string, seq uint32) []byte {
	attrLen := unix.SizeofRtAttr + len(name) + 1
	attrSpace := (attrLen + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
	total := unix.SizeofNlMsghdr + unix.SizeofIfInfomsg + attrSpace
	b := make([]byte, total)
	hdr := (*unix.NlMsghdr)(unsafe.Pointer(&b[0]))
	hdr.Len = uint32(total)
	hdr.Type = unix.RTM_NEWLINK
	hdr.Flags = unix.NLM_F_REQUEST | unix.NLM_F_ACK
	hdr.Seq = seq
	ifi := (*unix.IfInfomsg)(unsafe.Pointer(&b[unix.SizeofNlMsghdr]))
	ifi.Family = unix.AF_UNSPEC
	ifi.Flags = unix.IFF_UP
	ifi.Change = unix.IFF_UP
	off := unix.SizeofNlMsghdr + unix.SizeofIfInfomsg
	rta := (*unix.RtAttr)(unsafe.Pointer(&b[off]))
	rta.Len = uint16(attrLen)
	rta.Type = unix.IFLA_IFNAME
	copy(b[off+unix.SizeofRtAttr:], name)
	return b
}
