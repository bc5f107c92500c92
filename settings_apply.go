package quic

// This file implements MsQuic's IsSet mechanics (settings.c QuicSettingApply
// and QuicSettingsCopy) on Settings values.
//
// Inside the library a "full" Settings has every Value meaningful, and Set
// marks the fields set explicitly at its level (library, configuration or
// connection). The engine reads a connection's resolved settings as the
// Values of such a full Settings.

// patchField copies src into dst if src is set.
func patchField[T any](dst *Optional[T], src Optional[T]) {
	if src.Set {
		*dst = src
	}
}

// inheritField copies src's value into dst unless dst was set explicitly.
func inheritField[T any](dst *Optional[T], src Optional[T]) {
	if !dst.Set {
		dst.Value = src.Value
	}
}

// update validates patch and applies it to s, a full Settings (see apply).
// On error s is unchanged. op names the API call in the error.
func (s *Settings) update(op string, patch *Settings, allowMTUAndECN bool) error {
	p, err := patch.prepare(op)
	if err != nil {
		return err
	}
	next := *s
	if err := next.apply(op, &p, allowMTUAndECN); err != nil {
		return err
	}
	*s = next
	return nil
}

// apply copies the set fields of p, which prepare has validated, into s
// (QuicSettingApply with OverWrite, as every MsQuic SetParam applies
// settings): a field set in p replaces s's and becomes Set in s.
//
// Setting StreamRecvWindowDefault also writes its value into the three
// per-type windows; a per-type window set in p then wins over it.
//
// MinimumMTU, MaximumMTU and ECNEnabled may only change when allowMTUAndECN
// is true (a connection that has not started). When p sets an MTU bound, the
// other bound is taken from s if set there, and otherwise is the limit of
// the allowed range (1248 or 1500), as in MsQuic; the resulting minimum must
// not exceed the maximum. MTU values that p does not touch keep their
// current values.
func (s *Settings) apply(op string, p *Settings, allowMTUAndECN bool) error {
	if (p.MinimumMTU.Set || p.MaximumMTU.Set || p.ECNEnabled.Set) && !allowMTUAndECN {
		field := "ECNEnabled"
		if p.MinimumMTU.Set {
			field = "MinimumMTU"
		} else if p.MaximumMTU.Set {
			field = "MaximumMTU"
		}
		return opError(op, StatusInvalidParameter, "Settings.%s cannot change after the connection started", field)
	}
	if p.MinimumMTU.Set || p.MaximumMTU.Set {
		lo := Optional[uint16]{Value: minMTU}
		if s.MinimumMTU.Set {
			lo = s.MinimumMTU
		}
		hi := Optional[uint16]{Value: maxMTU}
		if s.MaximumMTU.Set {
			hi = s.MaximumMTU
		}
		patchField(&lo, p.MinimumMTU)
		patchField(&hi, p.MaximumMTU)
		if lo.Value > hi.Value {
			return opError(op, StatusInvalidParameter,
				"Settings.MinimumMTU (%d) must not exceed Settings.MaximumMTU (%d)", lo.Value, hi.Value)
		}
		s.MinimumMTU, s.MaximumMTU = lo, hi
	}
	patchField(&s.ECNEnabled, p.ECNEnabled)

	patchField(&s.MaxBytesPerKey, p.MaxBytesPerKey)
	patchField(&s.HandshakeIdleTimeout, p.HandshakeIdleTimeout)
	patchField(&s.IdleTimeout, p.IdleTimeout)
	patchField(&s.MTUDiscoverySearchCompleteTimeout, p.MTUDiscoverySearchCompleteTimeout)
	patchField(&s.TLSClientMaxSendBuffer, p.TLSClientMaxSendBuffer)
	patchField(&s.TLSServerMaxSendBuffer, p.TLSServerMaxSendBuffer)
	if p.StreamRecvWindowDefault.Set {
		s.StreamRecvWindowDefault = p.StreamRecvWindowDefault
		v := p.StreamRecvWindowDefault.Value
		s.StreamRecvWindowBidiLocalDefault.Value = v
		s.StreamRecvWindowBidiRemoteDefault.Value = v
		s.StreamRecvWindowUnidiDefault.Value = v
	}
	patchField(&s.StreamRecvWindowBidiLocalDefault, p.StreamRecvWindowBidiLocalDefault)
	patchField(&s.StreamRecvWindowBidiRemoteDefault, p.StreamRecvWindowBidiRemoteDefault)
	patchField(&s.StreamRecvWindowUnidiDefault, p.StreamRecvWindowUnidiDefault)
	patchField(&s.StreamRecvBufferDefault, p.StreamRecvBufferDefault)
	patchField(&s.ConnFlowControlWindow, p.ConnFlowControlWindow)
	patchField(&s.MaxWorkerQueueDelay, p.MaxWorkerQueueDelay)
	patchField(&s.MaxStatelessOperations, p.MaxStatelessOperations)
	patchField(&s.InitialWindowPackets, p.InitialWindowPackets)
	patchField(&s.SendIdleTimeout, p.SendIdleTimeout)
	patchField(&s.InitialRTT, p.InitialRTT)
	patchField(&s.MaxAckDelay, p.MaxAckDelay)
	patchField(&s.DisconnectTimeout, p.DisconnectTimeout)
	patchField(&s.KeepAliveInterval, p.KeepAliveInterval)
	patchField(&s.CongestionControlAlgorithm, p.CongestionControlAlgorithm)
	patchField(&s.PeerBidiStreamCount, p.PeerBidiStreamCount)
	patchField(&s.PeerUnidiStreamCount, p.PeerUnidiStreamCount)
	patchField(&s.MaxBindingStatelessOperations, p.MaxBindingStatelessOperations)
	patchField(&s.StatelessOperationExpiration, p.StatelessOperationExpiration)
	patchField(&s.SendBufferingEnabled, p.SendBufferingEnabled)
	patchField(&s.PacingEnabled, p.PacingEnabled)
	patchField(&s.MigrationEnabled, p.MigrationEnabled)
	patchField(&s.DatagramReceiveEnabled, p.DatagramReceiveEnabled)
	patchField(&s.ServerResumptionLevel, p.ServerResumptionLevel)
	patchField(&s.GreaseQUICBitEnabled, p.GreaseQUICBitEnabled)
	patchField(&s.MaxOperationsPerDrain, p.MaxOperationsPerDrain)
	patchField(&s.MTUDiscoveryMissingProbeCount, p.MTUDiscoveryMissingProbeCount)
	patchField(&s.DestCIDUpdateIdleTimeout, p.DestCIDUpdateIdleTimeout)
	patchField(&s.HyStartEnabled, p.HyStartEnabled)
	patchField(&s.EncryptionOffloadAllowed, p.EncryptionOffloadAllowed)
	patchField(&s.ReliableResetEnabled, p.ReliableResetEnabled)
	patchField(&s.OneWayDelayEnabled, p.OneWayDelayEnabled)
	patchField(&s.NetStatsEventEnabled, p.NetStatsEventEnabled)
	patchField(&s.StreamMultiReceiveEnabled, p.StreamMultiReceiveEnabled)
	patchField(&s.XDPEnabled, p.XDPEnabled)
	patchField(&s.QTIPEnabled, p.QTIPEnabled)
	patchField(&s.Extensions.MaxPacketRetryCount, p.Extensions.MaxPacketRetryCount)
	patchField(&s.Extensions.LossDetectionGracePeriod, p.Extensions.LossDetectionGracePeriod)
	patchField(&s.Extensions.QlogDir, p.Extensions.QlogDir)
	patchField(&s.Extensions.Tracer, p.Extensions.Tracer)
	return nil
}

// inherit copies base's values into every field of s that is not set
// explicitly (QuicSettingsCopy); Set flags are not copied. An MTU bound set
// in s keeps base's other bound only if the pair stays ordered.
func (s *Settings) inherit(base *Settings) {
	switch {
	case !s.MinimumMTU.Set && !s.MaximumMTU.Set:
		s.MinimumMTU.Value, s.MaximumMTU.Value = base.MinimumMTU.Value, base.MaximumMTU.Value
	case s.MinimumMTU.Set && !s.MaximumMTU.Set:
		if base.MaximumMTU.Value > s.MinimumMTU.Value {
			s.MaximumMTU.Value = base.MaximumMTU.Value
		}
	case s.MaximumMTU.Set && !s.MinimumMTU.Set:
		if base.MinimumMTU.Value < s.MaximumMTU.Value {
			s.MinimumMTU.Value = base.MinimumMTU.Value
		}
	}
	inheritField(&s.ECNEnabled, base.ECNEnabled)
	inheritField(&s.MaxBytesPerKey, base.MaxBytesPerKey)
	inheritField(&s.HandshakeIdleTimeout, base.HandshakeIdleTimeout)
	inheritField(&s.IdleTimeout, base.IdleTimeout)
	inheritField(&s.MTUDiscoverySearchCompleteTimeout, base.MTUDiscoverySearchCompleteTimeout)
	inheritField(&s.TLSClientMaxSendBuffer, base.TLSClientMaxSendBuffer)
	inheritField(&s.TLSServerMaxSendBuffer, base.TLSServerMaxSendBuffer)
	inheritField(&s.StreamRecvWindowDefault, base.StreamRecvWindowDefault)
	inheritField(&s.StreamRecvWindowBidiLocalDefault, base.StreamRecvWindowBidiLocalDefault)
	inheritField(&s.StreamRecvWindowBidiRemoteDefault, base.StreamRecvWindowBidiRemoteDefault)
	inheritField(&s.StreamRecvWindowUnidiDefault, base.StreamRecvWindowUnidiDefault)
	inheritField(&s.StreamRecvBufferDefault, base.StreamRecvBufferDefault)
	inheritField(&s.ConnFlowControlWindow, base.ConnFlowControlWindow)
	inheritField(&s.MaxWorkerQueueDelay, base.MaxWorkerQueueDelay)
	inheritField(&s.MaxStatelessOperations, base.MaxStatelessOperations)
	inheritField(&s.InitialWindowPackets, base.InitialWindowPackets)
	inheritField(&s.SendIdleTimeout, base.SendIdleTimeout)
	inheritField(&s.InitialRTT, base.InitialRTT)
	inheritField(&s.MaxAckDelay, base.MaxAckDelay)
	inheritField(&s.DisconnectTimeout, base.DisconnectTimeout)
	inheritField(&s.KeepAliveInterval, base.KeepAliveInterval)
	inheritField(&s.CongestionControlAlgorithm, base.CongestionControlAlgorithm)
	inheritField(&s.PeerBidiStreamCount, base.PeerBidiStreamCount)
	inheritField(&s.PeerUnidiStreamCount, base.PeerUnidiStreamCount)
	inheritField(&s.MaxBindingStatelessOperations, base.MaxBindingStatelessOperations)
	inheritField(&s.StatelessOperationExpiration, base.StatelessOperationExpiration)
	inheritField(&s.SendBufferingEnabled, base.SendBufferingEnabled)
	inheritField(&s.PacingEnabled, base.PacingEnabled)
	inheritField(&s.MigrationEnabled, base.MigrationEnabled)
	inheritField(&s.DatagramReceiveEnabled, base.DatagramReceiveEnabled)
	inheritField(&s.ServerResumptionLevel, base.ServerResumptionLevel)
	inheritField(&s.GreaseQUICBitEnabled, base.GreaseQUICBitEnabled)
	inheritField(&s.MaxOperationsPerDrain, base.MaxOperationsPerDrain)
	inheritField(&s.MTUDiscoveryMissingProbeCount, base.MTUDiscoveryMissingProbeCount)
	inheritField(&s.DestCIDUpdateIdleTimeout, base.DestCIDUpdateIdleTimeout)
	inheritField(&s.HyStartEnabled, base.HyStartEnabled)
	inheritField(&s.EncryptionOffloadAllowed, base.EncryptionOffloadAllowed)
	inheritField(&s.ReliableResetEnabled, base.ReliableResetEnabled)
	inheritField(&s.OneWayDelayEnabled, base.OneWayDelayEnabled)
	inheritField(&s.NetStatsEventEnabled, base.NetStatsEventEnabled)
	inheritField(&s.StreamMultiReceiveEnabled, base.StreamMultiReceiveEnabled)
	inheritField(&s.XDPEnabled, base.XDPEnabled)
	inheritField(&s.QTIPEnabled, base.QTIPEnabled)
	inheritField(&s.Extensions.MaxPacketRetryCount, base.Extensions.MaxPacketRetryCount)
	inheritField(&s.Extensions.LossDetectionGracePeriod, base.Extensions.LossDetectionGracePeriod)
	inheritField(&s.Extensions.QlogDir, base.Extensions.QlogDir)
	inheritField(&s.Extensions.Tracer, base.Extensions.Tracer)
}

// valuesOnly returns s's values with no field marked Set: what a new
// connection starts from (MsQuic copies the library values, not the IsSet
// bits).
func (s *Settings) valuesOnly() Settings {
	var c Settings
	c.inherit(s)
	return c
}
