package core

// Priority is the ticket priority of a severity.
func (c *IntegrationConfig) Priority(severity string) int {
	ps := c.Priorities
	if ps == nil {
		ps = DefaultPriorities()
	}
	if p, ok := ps[severity]; ok {
		return p
	}
	if p, ok := ps[""]; ok {
		return p
	}
	return 50
}
