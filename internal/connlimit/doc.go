// Package connlimit caps the connections a listener keeps open: in all, and per source
// address (an IPv4 address, or an IPv6 /64, which one subscriber usually holds whole). When
// the cap is reached, the connection idle the longest is closed to make room; when none is
// idle, the new connection is refused (closed at once) rather than left waiting: a listener
// that blocks, as golang.org/x/net/netutil.LimitListener does, lets a flood of idle
// connections fill the kernel's accept queue, and then legitimate clients time out too.
//
// The server must report connection states through Listener.ConnState (http.Server's
// ConnState hook) so that the listener knows which connections are idle: a connection is
// idle from its accept until its first request is read, and between requests.
package connlimit
