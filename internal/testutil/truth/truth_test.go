package truth

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func statuses(t *testing.T, url string, n int) map[int]int {
	t.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(url, "application/json", strings.NewReader(`{}`))
			require.NoError(t, err)
			resp.Body.Close()
			mu.Lock()
			got[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}

func TestQueueServesWorkersPlusQueueAndTurnsAwayTheRest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := Count(Queue(2, 300*time.Millisecond, 3))
	url, err := Serve(ctx, "127.0.0.1:0", c)
	require.NoError(t, err)
	// Ten at once: two in service, three queued, five turned away at once.
	got := statuses(t, url, 10)
	assert.Equal(t, map[int]int{200: 5, 503: 5}, got)
	assert.Equal(t, int64(10), c.Requests())
}

func TestBucketServesItsRate(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, err := Serve(ctx, "127.0.0.1:0", Bucket(10))
	require.NoError(t, err)
	// Forty at once: the burst (1) passes, and one more per 100 ms they take.
	got := statuses(t, url, 40)
	assert.Equal(t, 40, got[200]+got[503])
	assert.Positive(t, got[200])
	assert.LessOrEqual(t, got[200], 10, "a 10/s bucket does not serve 40 at once")
}

func TestInstantAnswersEverything(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, err := Serve(ctx, "127.0.0.1:0", Instant())
	require.NoError(t, err)
	assert.Equal(t, map[int]int{200: 20}, statuses(t, url, 20))
}
