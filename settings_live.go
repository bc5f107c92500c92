package quic

// Connection.SetSettings on a started connection (MsQuic's
// QUIC_PARAM_CONN_SETTINGS after ConnectionStart or
// ConnectionSetConfiguration). MsQuic stores any field then, though few
// take effect; hquic applies those that can change on a live connection
// and refuses the others.

// liveSettingRefusal returns the name of the first field p sets that
// cannot change once the connection started, and why, or "" if all can.
// MinimumMTU, MaximumMTU and ECNEnabled are left to Settings.apply, which
// refuses them as MsQuic does.
func liveSettingRefusal(p *Settings) (field, why string) {
	const (
		tp      = "it is in the transport parameters already sent"
		atStart = "it is used when the connection starts"
		library = "only the library-wide value is used"
	)
	for _, f := range []struct {
		name, why string
		set       bool
	}{
		{"MaxAckDelay", tp, p.MaxAckDelay.Set},
		{"DatagramReceiveEnabled", tp, p.DatagramReceiveEnabled.Set},
		{"MigrationEnabled", tp, p.MigrationEnabled.Set},
		{"GreaseQUICBitEnabled", tp, p.GreaseQUICBitEnabled.Set},
		{"ServerResumptionLevel", atStart, p.ServerResumptionLevel.Set},
		{"InitialRTT", atStart, p.InitialRTT.Set},
		{"InitialWindowPackets", atStart, p.InitialWindowPackets.Set},
		{"CongestionControlAlgorithm", atStart, p.CongestionControlAlgorithm.Set},
		{"HyStartEnabled", atStart, p.HyStartEnabled.Set},
		{"PacingEnabled", atStart, p.PacingEnabled.Set},
		{"SendIdleTimeout", atStart, p.SendIdleTimeout.Set},
		{"Extensions.MaxPacketRetryCount", atStart, p.Extensions.MaxPacketRetryCount.Set},
		{"Extensions.LossDetectionGracePeriod", atStart, p.Extensions.LossDetectionGracePeriod.Set},
		{"Extensions.QlogDir", atStart, p.Extensions.QlogDir.Set},
		{"Extensions.Tracer", atStart, p.Extensions.Tracer.Set},
		{"MaxWorkerQueueDelay", library, p.MaxWorkerQueueDelay.Set},
		{"MaxStatelessOperations", library, p.MaxStatelessOperations.Set},
		{"MaxBindingStatelessOperations", library, p.MaxBindingStatelessOperations.Set},
		{"StatelessOperationExpiration", library, p.StatelessOperationExpiration.Set},
	} {
		if f.set {
			return f.name, f.why
		}
	}
	return "", ""
}

// setLiveSettings applies p to a started connection; c.mu is held.
func (c *Connection) setLiveSettings(op string, p *Settings) error {
	if !c.resolvedSet {
		return opError(op, StatusInvalidState, "the connection is starting")
	}
	if name, why := liveSettingRefusal(p); name != "" {
		return opError(op, StatusInvalidState, "Settings.%s cannot change once the connection started: %s", name, why)
	}
	if p.ConnFlowControlWindow.Set && p.ConnFlowControlWindow.Value < c.resolved.ConnFlowControlWindow.Value {
		return opError(op, StatusInvalidParameter, "Settings.ConnFlowControlWindow can only grow once the connection started (%d < %d)",
			p.ConnFlowControlWindow.Value, c.resolved.ConnFlowControlWindow.Value)
	}
	next := c.resolved
	if err := next.update(op, p, false); err != nil {
		return err
	}
	if err := c.settings.update(op, p, false); err != nil {
		return err
	}
	c.resolved = next
	c.eng.UpdateSettings(engineSettings(&next))
	return nil
}

// Settings returns the connection's settings (QUIC_PARAM_CONN_SETTINGS):
// once started, the values it runs with, Set marking the fields set on
// the connection itself; before, the library's values overridden by the
// fields set on the connection.
func (c *Connection) Settings() Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resolvedSet {
		return c.resolved
	}
	s := c.settings
	lib := c.lib.Settings()
	s.inherit(&lib)
	return s
}
