package conn

import "github.com/hquic/quic/internal/mono"

// UpdateSettings replaces the settings of a running connection with s
// (MsQuic's QUIC_PARAM_CONN_SETTINGS on a started connection). The public
// package allows only the settings that may change live to differ:
// peer stream counts (a higher count is advertised at once, a lower one
// takes effect as streams close), the idle, handshake idle, disconnect
// and keep-alive timers, the connection receive window (raised only),
// and what the connection reads afresh each time (stream windows and
// buffers of new streams, send buffering, drain budget, key update
// volume, DPLPMTUD and destination connection ID update timings).
func (c *Conn) UpdateSettings(s Settings) {
	c.enqueue(laneNormal, op{kind: opFunc, fn: func(c *Conn, now mono.Time) { c.updateSettings(now, s) }})
}

func (c *Conn) updateSettings(now mono.Time, s Settings) {
	if c.life.closing() || c.side == Server && c.hs == nil {
		return
	}
	old := c.set
	c.set = s
	st := &c.streams
	if s.PeerBidiStreamCount != old.PeerBidiStreamCount {
		st.set.SetPeerStreamCount(true, s.PeerBidiStreamCount)
	}
	if s.PeerUniStreamCount != old.PeerUniStreamCount {
		st.set.SetPeerStreamCount(false, s.PeerUniStreamCount)
	}
	if s.ConnFlowControlWindow > old.ConnFlowControlWindow {
		st.connRecv.EnsureWindow(s.ConnFlowControlWindow)
	}
	if c.life.state == stateIdle {
		return // the timers start with the handshake
	}
	if s.IdleTimeout != old.IdleTimeout || s.HandshakeIdleTimeout != old.HandshakeIdleTimeout {
		c.restartIdleTimer(now)
	}
	if s.KeepAliveInterval != old.KeepAliveInterval {
		c.timers[timerKeepAlive] = 0
		if ka := s.KeepAliveInterval; ka > 0 && c.life.handshakeComplete {
			c.timers[timerKeepAlive] = now.Add(ka)
		}
	}
	if s.DisconnectTimeout != old.DisconnectTimeout && !c.timers[timerDisconnect].IsZero() {
		c.timers[timerDisconnect] = now.Add(s.DisconnectTimeout)
	}
}
