package engine

// MaxAttachmentSize is the largest attachment the engine keeps whole
// (core.Config.MaxAttachmentSize; a larger one is dropped or cut, and the
// history says so): a form can refuse a larger file before anything is
// written.
func (system System) MaxAttachmentSize() int64 { return system.e.cfg.MaxAttachmentSize }
