package stream

// Event is a set of things that happened to a stream part and that the
// connection reports to the application. SendState and RecvState accumulate
// them; TakeEvents returns and clears them.
type Event uint8

// Stream events.
const (
	// EventSendComplete: one or more send requests completed (acknowledged,
	// copied into the send buffer, or canceled); collect them with
	// SendState.PopCompleted and raise SEND_COMPLETE for each.
	EventSendComplete Event = 1 << iota
	// EventSendShutdownComplete: the send part reached a terminal state:
	// Data Recvd (graceful: all data and FIN acknowledged) or Reset Recvd
	// (our RESET_STREAM was acknowledged). Raise SEND_SHUTDOWN_COMPLETE with
	// Graceful = SendState.Phase() == SendDataRecvd.
	EventSendShutdownComplete
	// EventPeerSendShutdown: all data up to the peer's FIN was consumed
	// (Data Read). Raise PEER_SEND_SHUTDOWN.
	EventPeerSendShutdown
	// EventPeerSendAborted: the peer reset the stream (Reset Recvd). Raise
	// PEER_SEND_ABORTED with RecvState.ResetCode, then call
	// RecvState.OnResetRead.
	EventPeerSendAborted
)
