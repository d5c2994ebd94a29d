// Package clientaddr gives the peer address of a request as the
// Collector's processors see it, for both the cgo bridge and the cgo-free
// path (pure Go).
package clientaddr // import "github.com/otelcol-rust/otelcol-rust/components/internal/clientaddr"

import "net"

// String is the peer IP as the Collector's processors see it (contrib's
// clientutil.Address): the IP of IP addresses, the host part of host:port
// strings that parse as IPs, the string otherwise.
func String(addr net.Addr) string {
	switch a := addr.(type) {
	case nil:
		return ""
	case *net.TCPAddr:
		return a.IP.String()
	case *net.UDPAddr:
		return a.IP.String()
	case *net.IPAddr:
		return a.IP.String()
	}
	s := addr.String()
	if host, _, err := net.SplitHostPort(s); err == nil && net.ParseIP(host) != nil {
		return host
	}
	return s
}
