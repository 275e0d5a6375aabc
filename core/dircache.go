package core

import (
	"strings"
	"sync"
)

// The directory cache: what every action reads before it can decide
// anything (the actor, their groups and grants, queues, lifecycles) kept
// between transactions, so that a steady stream of actions reads one number
// instead.
//
// The number is the directory version (DirectoryStore.DirectoryVersion),
// which every change to users, groups, members, grants, queues and
// lifecycles increases in the transaction that makes it, whoever makes it:
// this engine, another replica, the offline admin commands or a person with
// psql (the stores count changes with database triggers). An action reads
// the version first; what the cache holds is used only when it was read
// under that same version, else the action reads the directory as it would
// without a cache and keeps what it read under the version it saw. A change
// therefore takes effect for every action that begins after it commits,
// exactly as without the cache.
//
// Entries are kept under the version the transaction that read them saw
// first. Such a transaction read them at that version or later, never
// earlier, and a later version only ever comes with a different number,
// which empties the cache.

// dirCache is an engine's directory cache. The zero value is empty.
type dirCache struct {
	mu      sync.Mutex
	version int64 // of everything below; 0: empty
	rights  map[int64]*Rights
	queues  map[int64]*Queue
	byName  map[string]*Queue // lower-case name
	lcs     map[string]*Lifecycle
}

// at makes the cache hold version v; false when it holds a newer one (the
// caller's transaction is older and must not add to it). Call with mu held.
func (c *dirCache) at(v int64) bool {
	switch {
	case v <= 0 || v < c.version:
		return false
	case v > c.version:
		c.version = v
		c.rights, c.queues, c.byName, c.lcs = nil, nil, nil, nil
	}
	return true
}

// Reads return copies (a session may change what it gets: an admin action
// edits the queue or user it loaded), or nothing when the cache holds
// another version than v.

func (c *dirCache) getRights(v, userID int64) *Rights {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == 0 || v != c.version {
		return nil
	}
	if r := c.rights[userID]; r != nil {
		return r.clone()
	}
	return nil
}

func (c *dirCache) putRights(v int64, r *Rights) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(v) {
		return
	}
	if c.rights == nil {
		c.rights = map[int64]*Rights{}
	}
	c.rights[r.User.ID] = r.clone()
}

// getQueue returns queue id, or with name != "" the queue of that name.
func (c *dirCache) getQueue(v, id int64, name string) *Queue {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == 0 || v != c.version {
		return nil
	}
	q := c.queues[id]
	if name != "" {
		q = c.byName[strings.ToLower(name)]
	}
	if q == nil {
		return nil
	}
	cp := *q
	return &cp
}

func (c *dirCache) putQueue(v int64, q *Queue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(v) {
		return
	}
	if c.queues == nil {
		c.queues, c.byName = map[int64]*Queue{}, map[string]*Queue{}
	}
	cp := *q
	c.queues[q.ID] = &cp
	c.byName[strings.ToLower(q.Name)] = &cp
}

// Lifecycles are not changed once parsed, so they are shared.
func (c *dirCache) getLifecycle(v int64, name string) *Lifecycle {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == 0 || v != c.version {
		return nil
	}
	return c.lcs[name]
}

func (c *dirCache) putLifecycle(v int64, name string, l *Lifecycle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(v) {
		return
	}
	if c.lcs == nil {
		c.lcs = map[string]*Lifecycle{}
	}
	c.lcs[name] = l
}

// clone copies r with its own copy of the user; the grants and groups are
// never changed and are shared.
func (r *Rights) clone() *Rights {
	u := *r.User
	return &Rights{User: &u, groups: r.groups, grants: r.grants}
}
