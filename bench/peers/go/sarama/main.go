// sarama: the users API scenario's consumer (IBM/sarama). A consumer-group
// handler whose ConsumeClaim loops over one partition's messages: process,
// MarkMessage; sarama's auto-commit sends the marks (every second, and once
// more when the session ends). The configuration is the one the scenario's
// write-up recommends.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"kstrand.dev/bench/peers/internal/peer"
)

const name = "sarama"

func main() {
	run := peer.Start(name)
	f := run.Flags
	sarama.Logger = log.New(io.Discard, "", 0) // quiet: errors come through Errors()

	// The write-up's configuration. Left out: Consumer.Prefetch, which
	// sarama does not have. Added: Offsets.Initial (a new group reads from
	// the earliest offset) and a dial timeout so a wrong --brokers fails fast.
	config := sarama.NewConfig()
	config.ClientID = name
	config.Consumer.Return.Errors = true
	config.Consumer.MaxWaitTime = 1 * time.Second
	config.Consumer.Fetch.Default = 1024 * 1024
	config.Consumer.Fetch.Min = 128 * 1024
	config.Consumer.Fetch.Max = 10 * 1024 * 1024
	config.Consumer.Group.Session.Timeout = 30 * time.Second
	config.Consumer.Group.Heartbeat.Interval = 10 * time.Second
	config.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRoundRobin()}
	config.Consumer.Group.Rebalance.Timeout = 30 * time.Second
	config.Consumer.Group.Rebalance.Retry.Max = 2
	config.ChannelBufferSize = 256
	// MaxVersion (as the write-up sets): Kafka 4.x refuses the old protocol
	// versions of sarama's default (V2_1_0_0 is the floor it accepts).
	config.Version = sarama.MaxVersion
	config.Metadata.Full = false
	config.Metadata.Retry.Max = 3
	config.Consumer.MaxProcessingTime = 250 * time.Millisecond
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Net.DialTimeout = 5 * time.Second

	var producer sarama.SyncProducer
	if f.ForwardTo != "" {
		pc := sarama.NewConfig()
		pc.ClientID = name
		pc.Version = config.Version
		pc.Net.DialTimeout = config.Net.DialTimeout
		pc.Producer.Return.Successes = true // SyncProducer needs it
		pc.Producer.RequiredAcks = sarama.WaitForAll
		var err error
		if producer, err = sarama.NewSyncProducer(f.Brokers, pc); err != nil {
			peer.Fatal(name, "brokers %s: creating producer: %v", strings.Join(f.Brokers, ","), err)
		}
		defer producer.Close()
	}

	// With Metadata.Full off the client connects lazily and a consumer group
	// on a wrong --brokers retries forever: fetch the topic's metadata first.
	client, err := sarama.NewClient(f.Brokers, config)
	if err == nil {
		err = client.RefreshMetadata(f.Topic)
	}
	if err != nil {
		peer.Fatal(name, "brokers %s: %v", strings.Join(f.Brokers, ","), err)
	}
	defer client.Close()
	group, err := sarama.NewConsumerGroupFromClient(f.Group, client)
	if err != nil {
		peer.Fatal(name, "consumer group: %v", err)
	}
	go func() {
		for err := range group.Errors() {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		}
	}()

	h := &handler{run: run, producer: producer}
	// Consume returns at every rebalance; call it again until stopped.
	for run.Ctx.Err() == nil {
		if err := group.Consume(run.Ctx, []string{f.Topic}, h); err != nil {
			if errors.Is(err, sarama.ErrClosedConsumerGroup) {
				break
			}
			fmt.Fprintf(os.Stderr, "%s: consume: %v\n", name, err)
			time.Sleep(time.Second)
		}
	}
	// Close leaves the group (the last session already committed its marks).
	if err := group.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: close: %v\n", name, err)
	}
	run.Finish()
}

type handler struct {
	run      *peer.Run
	producer sarama.SyncProducer
}

func (*handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

// ConsumeClaim runs on its own goroutine per claimed partition.
func (h *handler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case <-session.Context().Done():
			return nil // stop or rebalance: the session commits the marks
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			if !h.run.Claim() {
				return nil // --max-messages reached elsewhere: leave this one unmarked
			}
			h.run.Work()
			if h.producer != nil {
				if _, _, err := h.producer.SendMessage(&sarama.ProducerMessage{
					Topic: h.run.Flags.ForwardTo,
					Key:   sarama.ByteEncoder(msg.Key),
					Value: sarama.ByteEncoder(msg.Value),
				}); err != nil {
					fmt.Fprintf(os.Stderr, "%s: forward: %v\n", name, err)
				}
			}
			session.MarkMessage(msg, "")
			h.run.Done(msg.Partition, msg.Timestamp)
		}
	}
}
