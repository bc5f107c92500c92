package conn

// Closing implements Events for the harness endpoint.
func (e *endpoint) Closing() {}

// StreamClosing implements StreamEvents for the harness endpoint.
func (e *endpoint) StreamClosing(s *Stream) {}

// Closing implements Events for the benchmark application.
func (a *bulkApp) Closing() {}

// StreamClosing implements StreamEvents for the benchmark application.
func (a *bulkApp) StreamClosing(*Stream) {}
