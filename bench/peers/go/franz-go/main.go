// franz-go: the framework scenario (twmb/franz-go), built like franz-go's
// own example "goroutine per partition consuming / autocommit_marks": one
// poll loop hands each partition's records to that partition's goroutine;
// the goroutine processes them and marks them; the client auto-commits the
// marks. BlockRebalanceOnPoll keeps a rebalance out of the window between a
// poll and the hand-off, so the partition map needs no lock.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"kstrand.dev/bench/peers/internal/peer"
)

const name = "franz-go"

type tp struct {
	t string
	p int32
}

// pconsumer is one assigned partition's goroutine.
type pconsumer struct {
	run  *peer.Run
	cl   *kgo.Client
	wg   *sync.WaitGroup
	quit chan struct{} // closed on revocation/loss
	done chan struct{} // closed when the goroutine has returned
	recs chan kgo.FetchTopicPartition
}

type splitConsume struct {
	run       *peer.Run
	consumers map[tp]*pconsumer // only touched by callbacks and the poll loop, never at once
	running   sync.WaitGroup    // the partition goroutines
}

func main() {
	run := peer.Start(name)
	f := run.Flags
	s := &splitConsume{run: run, consumers: make(map[tp]*pconsumer)}

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(f.Brokers...),
		kgo.ConsumerGroup(f.Group),
		kgo.ConsumeTopics(f.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.OnPartitionsAssigned(s.assigned),
		kgo.OnPartitionsRevoked(s.revoked),
		kgo.OnPartitionsLost(s.lost),
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
	)
	if err != nil {
		peer.Fatal(name, "creating client: %v", err)
	}
	// The client connects lazily and retries forever: check the brokers.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = cl.Ping(ctx)
	cancel()
	if err != nil {
		peer.Fatal(name, "brokers %s unreachable: %v", strings.Join(f.Brokers, ","), err)
	}

	s.poll(cl)

	// Stopped: the partition goroutines return on run.Ctx. Commit what they
	// marked before leaving (Close does not commit for an overridden
	// OnPartitionsRevoked), then leave the group.
	s.running.Wait()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "%s: final commit: %v\n", name, err)
	}
	cancel()
	cl.CloseAllowingRebalance()
	run.Finish()
}

func (s *splitConsume) poll(cl *kgo.Client) {
	for {
		// PollRecords bounds a poll's work so a blocked rebalance waits less.
		fetches := cl.PollRecords(s.run.Ctx, 10000)
		if fetches.IsClientClosed() || s.run.Ctx.Err() != nil {
			return
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				fmt.Fprintf(os.Stderr, "%s: fetch %s/%d: %v\n", name, t, p, err)
			}
		})
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			// onAssigned runs before a new partition is fetched, and a
			// revocation waits for AllowRebalance: the consumer exists.
			select {
			case s.consumers[tp{p.Topic, p.Partition}].recs <- p:
			case <-s.run.Ctx.Done():
			}
		})
		cl.AllowRebalance()
	}
}

func (s *splitConsume) assigned(_ context.Context, cl *kgo.Client, assigned map[string][]int32) {
	for topic, partitions := range assigned {
		for _, partition := range partitions {
			pc := &pconsumer{
				run:  s.run,
				cl:   cl,
				wg:   &s.running,
				quit: make(chan struct{}),
				done: make(chan struct{}),
				recs: make(chan kgo.FetchTopicPartition, 5),
			}
			s.consumers[tp{topic, partition}] = pc
			s.running.Add(1)
			go pc.consume()
		}
	}
}

// revoked stops the partitions' goroutines, then commits what they marked
// so the next owner starts after it.
func (s *splitConsume) revoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	s.kill(revoked)
	if s.run.Ctx.Err() != nil {
		return // stopping: main has committed already
	}
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "%s: commit on revoke: %v\n", name, err)
	}
}

// lost: the partitions already belong to someone else, committing would fail.
func (s *splitConsume) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.kill(lost)
}

func (s *splitConsume) kill(parts map[string][]int32) {
	var wg sync.WaitGroup
	for topic, partitions := range parts {
		for _, partition := range partitions {
			key := tp{topic, partition}
			pc := s.consumers[key]
			if pc == nil {
				continue
			}
			delete(s.consumers, key)
			close(pc.quit)
			wg.Add(1)
			go func() { <-pc.done; wg.Done() }()
		}
	}
	wg.Wait()
}

func (pc *pconsumer) consume() {
	defer pc.wg.Done()
	defer close(pc.done)
	for {
		select {
		case <-pc.quit:
			return
		case <-pc.run.Ctx.Done():
			return
		case p := <-pc.recs:
			for _, rec := range p.Records {
				// Check between records, not only between batches: a batch at
				// 5 ms per record could otherwise hold a revocation for seconds.
				select {
				case <-pc.quit:
					return
				case <-pc.run.Ctx.Done():
					return
				default:
				}
				if !pc.run.Claim() {
					break // --max-messages reached elsewhere: leave the rest unmarked
				}
				pc.run.Work()
				if fwd := pc.run.Flags.ForwardTo; fwd != "" {
					out := &kgo.Record{Topic: fwd, Key: rec.Key, Value: rec.Value}
					if err := pc.cl.ProduceSync(context.Background(), out).FirstErr(); err != nil {
						fmt.Fprintf(os.Stderr, "%s: forward: %v\n", name, err)
					}
				}
				pc.cl.MarkCommitRecords(rec)
				pc.run.Done(rec.Partition, rec.Timestamp)
			}
		}
	}
}
