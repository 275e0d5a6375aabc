package engine

import (
	"errors"
	"strings"
	"sync"

	"github.com/ticketd/ticketd/core"
)

// The directory cache keeps what every action reads first (actor, groups,
// grants, queues, lifecycles) under the directory version: docs/directory-cache.md.

// dirUse says how a session uses the directory cache.
type dirUse int

const (
	dirTrust dirUse = iota // use the cache, check its version before the end
	dirRead                // read the version first
)

// errStaleDirectory rolls back an action that used a cache whose version
// was not the directory's; Engine.run runs it again.
var errStaleDirectory = errors.New("the directory changed")

// dirUse is the version under which the session may read the cache; 0:
// none.
func (s *session) dirUse() int64 {
	if s.tx.DirectoryChanged() {
		return 0
	}
	return s.dirv
}

// dirKeep is the version under which the session may add what it read to
// the cache; 0: it may not.
func (s *session) dirKeep() int64 {
	if s.dirv == 0 || s.tx.DirectoryChanged() {
		return 0
	}
	if s.dirCheck {
		v, err := s.tx.DirectoryVersion(s.ctx)
		if err != nil || v != s.dirv {
			return 0 // confirmed() says so at the end
		}
		s.dirCheck = false
	}
	return s.dirv
}

// confirmed checks, at the end of a transaction that trusted the cache,
// that the cache's version was the directory's; errStaleDirectory if not.
// err is the outcome of the transaction so far, returned otherwise.
func (s *session) confirmed(err error) error {
	if !s.dirCheck {
		return err
	}
	v, verr := s.tx.DirectoryVersion(s.ctx)
	switch {
	case verr != nil && err != nil:
		return err
	case verr != nil:
		return core.Internal(verr, "read directory version")
	case v != s.dirv:
		s.e.dir.invalidate(v)
		return errStaleDirectory
	}
	s.dirCheck = false
	return err
}

// dirCache is an engine's directory cache. The zero value is empty.
type dirCache struct {
	mu      sync.Mutex
	version int64 // of everything below; 0: empty
	rights  map[int64]*core.Rights
	users   map[int64]*core.User // users who have not acted, such as Nobody
	queues  map[int64]*core.Queue
	byName  map[string]*core.Queue // lower-case name
	lcs     map[string]*core.Lifecycle
	fields  []*core.Field // custom fields; nil: not read (fields.go)
}

// current is the version of what the cache holds; 0: nothing.
func (c *dirCache) current() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// invalidate empties the cache if it holds a version older than v.
func (c *dirCache) invalidate(v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at(v)
}

// clear empties the cache.
func (c *dirCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version = 0
	c.rights, c.users, c.queues, c.byName, c.lcs, c.fields = nil, nil, nil, nil, nil, nil
}

// at makes the cache hold version v; false when it holds a newer one (the
// caller's transaction is older and must not add to it). Call with mu held.
func (c *dirCache) at(v int64) bool {
	switch {
	case v <= 0 || v < c.version:
		return false
	case v > c.version:
		c.version = v
		c.rights, c.users, c.queues, c.byName, c.lcs, c.fields = nil, nil, nil, nil, nil, nil
	}
	return true
}

// Reads return copies (a session may change what it gets: an admin action
// edits the queue or user it loaded), or nothing when the cache holds
// another version than v.

func (c *dirCache) getRights(v, userID int64) *core.Rights {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == 0 || v != c.version {
		return nil
	}
	if r := c.rights[userID]; r != nil {
		return r.Clone()
	}
	return nil
}

func (c *dirCache) putRights(v int64, r *core.Rights) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(v) {
		return
	}
	if c.rights == nil {
		c.rights = map[int64]*core.Rights{}
	}
	c.rights[r.User.ID] = r.Clone()
}

// getUser returns user id, if the cache holds them or their rights.
func (c *dirCache) getUser(v, id int64) *core.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == 0 || v != c.version {
		return nil
	}
	u := c.users[id]
	if r := c.rights[id]; r != nil {
		u = r.User
	}
	if u == nil {
		return nil
	}
	cp := *u
	return &cp
}

func (c *dirCache) putUser(v int64, u *core.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(v) {
		return
	}
	if c.users == nil {
		c.users = map[int64]*core.User{}
	}
	cp := *u
	c.users[u.ID] = &cp
}

// userByID loads a user by id, through the cache.
func (s *session) userByID(id int64) (*core.User, error) {
	if u := s.e.dir.getUser(s.dirUse(), id); u != nil {
		return u, nil
	}
	u, err := s.tx.User(s.ctx, id)
	if err == nil {
		s.e.dir.putUser(s.dirKeep(), u)
	}
	return u, err
}

// getQueue returns queue id, or with name != "" the queue of that name.
func (c *dirCache) getQueue(v, id int64, name string) *core.Queue {
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

func (c *dirCache) putQueue(v int64, q *core.Queue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(v) {
		return
	}
	if c.queues == nil {
		c.queues, c.byName = map[int64]*core.Queue{}, map[string]*core.Queue{}
	}
	cp := *q
	c.queues[q.ID] = &cp
	c.byName[strings.ToLower(q.Name)] = &cp
}

// Lifecycles are not changed once parsed, so they are shared.
func (c *dirCache) getLifecycle(v int64, name string) *core.Lifecycle {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == 0 || v != c.version {
		return nil
	}
	return c.lcs[name]
}

func (c *dirCache) putLifecycle(v int64, name string, l *core.Lifecycle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(v) {
		return
	}
	if c.lcs == nil {
		c.lcs = map[string]*core.Lifecycle{}
	}
	c.lcs[name] = l
}
