package conn

// Two send flags of MsQuic's that change when stream data goes out.
//
// SendFlagDelay (QUIC_SEND_FLAG_DELAY_SEND) queues the data without
// asking for a send pass of its own: it goes with the next pass that has
// another reason to run (received packets, a due timer, another
// operation). A run without one holds the data of the streams whose
// latest send was delayed; the next run with one sends it.
//
// SendFlagCancelOnLoss (QUIC_SEND_FLAG_CANCEL_ON_LOSS) switches the stream
// irreversibly to cancel-on-loss: when any of its data is lost, it is not
// sent again; the application is told (StreamCancelOnLoss) and the stream
// is aborted in both directions with the code it returns.

// holdDelayed reports whether appendData holds s back in this run.
func (st *streamState) holdDelayed(c *Conn, s *Stream) bool {
	if !s.sendDelayed {
		return false
	}
	if c.onlyDelayedSends {
		return true
	}
	s.sendDelayed = false
	return false
}

// queueLossCancel records that s lost data in cancel-on-loss mode; the
// stream is aborted after the packet (or timer) processing that found the
// loss, before anything is sent again.
func (st *streamState) queueLossCancel(s *Stream) {
	if !s.shutdownDone {
		s.lossCanceled = true
		st.lossCancel = true
	}
}

// cancelLost aborts the streams queueLossCancel marked.
func (st *streamState) cancelLost(c *Conn) {
	if !st.lossCancel {
		return
	}
	st.lossCancel = false
	for e := range st.set.All() {
		s := e.Stream
		if !s.lossCanceled || s.lossAborted {
			continue
		}
		s.lossAborted = true
		var code uint64
		if c.events != nil && !s.appClosed {
			code = c.events.StreamCancelOnLoss(s)
		}
		st.shutdown(c, s, StreamShutdownAbortSend|StreamShutdownAbortReceive, code)
	}
}
