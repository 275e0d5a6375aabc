package live_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/web/live"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

func got(t *testing.T, s *live.Sub, want int64) {
	t.Helper()
	select {
	case id := <-s.C:
		if id != want {
			t.Fatalf("got ticket %d, want %d", id, want)
		}
	case <-time.After(time.Second):
		t.Fatalf("ticket %d never came", want)
	}
}

func none(t *testing.T, s *live.Sub, wait time.Duration) {
	t.Helper()
	select {
	case id := <-s.C:
		t.Fatalf("got ticket %d, want nothing", id)
	case <-time.After(wait):
	}
}

// A change reaches the subscribers of its ticket and those of any ticket,
// not those of another ticket nor one that stopped.
func TestBrokerFanOut(t *testing.T) {
	b := live.New(nil, nil)
	five, stop5 := b.Subscribe(5)
	six, stop6 := b.Subscribe(6)
	defer stop6()
	anyT, stopAny := b.Subscribe(0)
	defer stopAny()
	gone, stopGone := b.Subscribe(5)
	stopGone()
	if n := b.Subscribers(); n != 3 {
		t.Fatalf("%d subscribers, want 3", n)
	}
	b.Publish([]int64{5})
	got(t, five, 5)
	got(t, anyT, 5)
	none(t, six, 50*time.Millisecond)
	none(t, gone, 0)
	b.Publish([]int64{6, 5})
	got(t, six, 6)
	got(t, five, 5)
	got(t, anyT, 6)
	got(t, anyT, 5)
	stop5()
	// A subscriber that does not read loses ids, never blocks the publisher.
	for i := 0; i < 1000; i++ {
		b.Publish([]int64{6})
	}
	if n := b.Subscribers(); n != 2 {
		t.Fatalf("%d subscribers, want 2", n)
	}
}

func channel() string {
	var b [6]byte
	rand.Read(b[:])
	return "ticketd_live_test_" + hex.EncodeToString(b[:])
}

// twoReplicas publishes on a and checks that b's subscriber hears it and
// that a's own subscriber hears it once (its echo is dropped).
func twoReplicas(t *testing.T, ra, rb live.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := live.New(ra, nil), live.New(rb, nil)
	a.Run(ctx)
	b.Run(ctx)
	defer a.Stop()
	defer b.Stop()
	onA, stopA := a.Subscribe(7)
	defer stopA()
	onB, stopB := b.Subscribe(0)
	defer stopB()
	// b listens soon after Run; publish until it does.
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.Publish([]int64{7})
		got(t, onA, 7)
		select {
		case id := <-onB.C:
			if id != 7 {
				t.Fatalf("the other replica got ticket %d, want 7", id)
			}
		case <-time.After(200 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("the other replica never heard of the change")
			}
			continue
		}
		break
	}
	// Now that both listen: one publish is one signal on each side.
	start := time.Now()
	a.Publish([]int64{7, 9})
	got(t, onA, 7)
	got(t, onB, 7)
	got(t, onB, 9)
	if d := time.Since(start); d > time.Second {
		t.Errorf("the change took %s to reach the other replica", d)
	}
	none(t, onA, 300*time.Millisecond)
	// And back the other way.
	b.Publish([]int64{7})
	got(t, onB, 7)
	got(t, onA, 7)
}

func TestRedisRelay(t *testing.T) {
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	ch := channel()
	ra, err := live.NewRedis(url, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := live.NewRedis(url, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	if err := ra.Send(context.Background(), "ping"); err != nil {
		t.Fatalf("no Redis at %s (%v); run scripts/testenv.sh or set TEST_REDIS_URL", url, err)
	}
	twoReplicas(t, ra, rb)
}

func TestPostgresRelay(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	ch := channel()
	pa, err := live.NewPostgres(ctx, url, ch)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := live.NewPostgres(ctx, url, ch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pa.Close(); pb.Close() })
	twoReplicas(t, pa, pb)
}
