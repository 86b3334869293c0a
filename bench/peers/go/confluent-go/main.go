// confluent-go: the scaling scenario's service (confluent-kafka-go v1.9.2,
// bundled librdkafka). Two consumers per process, each on its own
// goroutine in the same group, round-robin (eager) assignment, every
// message processed inline and then committed with a synchronous
// CommitMessage, as the scenario's write-up does.
package main

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/confluentinc/confluent-kafka-go/kafka"

	"kstrand.dev/bench/peers/internal/peer"
)

const name = "confluent-go"

// consumersPerProcess is the scenario's fixed count of in-process consumers.
const consumersPerProcess = 2

func main() {
	run := peer.Start(name)
	f := run.Flags

	// The scenario's consumer configuration. Left out: go.logs.channel.enable
	// (the scenario never reads that channel; librdkafka logs go to stderr).
	cfg := kafka.ConfigMap{
		"bootstrap.servers":               strings.Join(f.Brokers, ","),
		"group.id":                        f.Group,
		"auto.offset.reset":               "earliest",
		"partition.assignment.strategy":   "roundrobin",
		"connections.max.idle.ms":         1800000,
		"go.application.rebalance.enable": true,
		"enable.auto.commit":              false,
	}

	consumers := make([]*kafka.Consumer, consumersPerProcess)
	for i := range consumers {
		c, err := kafka.NewConsumer(&cfg)
		if err != nil {
			peer.Fatal(name, "creating consumer: %v", err)
		}
		consumers[i] = c
	}
	// librdkafka retries an unreachable broker forever: check it up front
	// so a wrong --brokers fails within seconds instead of idling.
	if _, err := consumers[0].GetMetadata(&f.Topic, false, 10000); err != nil {
		peer.Fatal(name, "brokers %s unreachable: %v", strings.Join(f.Brokers, ","), err)
	}

	var fwd *forwarder
	if f.ForwardTo != "" {
		p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": strings.Join(f.Brokers, ",")})
		if err != nil {
			peer.Fatal(name, "creating producer: %v", err)
		}
		fwd = &forwarder{p: p, topic: f.ForwardTo}
		defer p.Close()
	}

	var wg sync.WaitGroup
	for _, c := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			consume(run, c, fwd)
		}()
	}
	wg.Wait()
	run.Finish()
}

// rebalance is the scenario's callback: take what is assigned, drop all on
// revocation (eager protocol).
func rebalance(c *kafka.Consumer, ev kafka.Event) error {
	switch e := ev.(type) {
	case kafka.AssignedPartitions:
		return c.Assign(e.Partitions)
	case kafka.RevokedPartitions:
		return c.Unassign()
	}
	return nil
}

func consume(run *peer.Run, c *kafka.Consumer, fwd *forwarder) {
	// Close leaves the group; the revocation runs through rebalance().
	defer func() {
		if err := c.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: close: %v\n", name, err)
		}
	}()
	if err := c.SubscribeTopics([]string{run.Flags.Topic}, rebalance); err != nil {
		peer.Fatal(name, "subscribe: %v", err)
	}
	for run.Ctx.Err() == nil {
		// The scenario polls with 2 s; a shorter timeout only makes a stop
		// quicker (Poll returns as soon as a message is there).
		msg, ok := c.Poll(200).(*kafka.Message)
		if !ok {
			continue // timeouts, errors and stats events: the scenario ignores them too
		}
		if msg.TopicPartition.Error != nil {
			fmt.Fprintf(os.Stderr, "%s: consume: %v\n", name, msg.TopicPartition.Error)
			continue
		}
		if !run.Claim() {
			return // --max-messages reached by the other consumer: leave it uncommitted
		}
		run.Work()
		if fwd != nil {
			if err := fwd.send(msg); err != nil {
				fmt.Fprintf(os.Stderr, "%s: forward: %v\n", name, err)
			}
		}
		// One synchronous commit per message, as the scenario does. It logs
		// a failed commit and keeps going (the scenario's goroutine would
		// return, silently shrinking the process to one consumer).
		if _, err := c.CommitMessage(msg); err != nil {
			fmt.Fprintf(os.Stderr, "%s: commit: %v\n", name, err)
		}
		run.Done(msg.TopicPartition.Partition, msg.Timestamp)
	}
}

// forwarder produces to --forward-to and waits for each delivery report.
type forwarder struct {
	p     *kafka.Producer
	topic string
}

func (fw *forwarder) send(m *kafka.Message) error {
	dr := make(chan kafka.Event, 1)
	err := fw.p.Produce(&kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &fw.topic, Partition: kafka.PartitionAny},
		Key:            m.Key,
		Value:          m.Value,
	}, dr)
	if err != nil {
		return err
	}
	if d := (<-dr).(*kafka.Message); d.TopicPartition.Error != nil {
		return d.TopicPartition.Error
	}
	return nil
}
