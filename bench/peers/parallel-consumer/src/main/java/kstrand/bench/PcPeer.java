package kstrand.bench;

import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelConsumerOptions.ProcessingOrder;
import io.confluent.parallelconsumer.ParallelStreamProcessor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Confluent Parallel Consumer peer: the job of `kstrand consume` done with PC's
 * recommended setup (KEY ordering, --concurrency workers, periodic async consumer commits).
 * Flags, signals and the RESULT line follow bench/peers/README.md.
 */
public final class PcPeer {
    private static final String PEER = "parallel-consumer";

    private final Args args;
    private final Stats stats;
    private final CountDownLatch reachedMax = new CountDownLatch(1);
    private volatile ParallelStreamProcessor<byte[], byte[]> pc; // null until created
    private boolean finished; // guarded by this: RESULT is printed exactly once
    private volatile boolean stopping; // finish has begun: PC closing is no failure

    private PcPeer(Args args, Stats stats) {
        this.args = args;
        this.stats = stats;
    }

    public static void main(String[] argv) throws Exception {
        Args args;
        try {
            args = Args.parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println(PEER + ": " + e.getMessage());
            System.err.println(Args.USAGE);
            System.exit(2);
            return;
        }
        PcPeer peer = new PcPeer(args, new Stats(args.trace));
        // From here a signal is answered by the hook (so other exits must halt). halt, not
        // exit: exit from a hook blocks forever, and halt(0) makes a signalled stop exit 0, not 143.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            peer.finish();
            Runtime.getRuntime().halt(0);
        }, "pc-peer-shutdown"));
        checkBroker(args.brokers);
        try {
            peer.run();
        } catch (Exception e) {
            System.err.println(PEER + ": " + e);
            Runtime.getRuntime().halt(1);
        }
    }

    /** PC's own clients retry an unreachable broker forever; ask once, with a deadline. */
    private static void checkBroker(String brokers) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println(PEER + ": cannot reach the broker at " + brokers + ": " + e);
            Runtime.getRuntime().halt(1);
        }
    }

    private void run() throws Exception {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args.brokers);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, args.group);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false); // PC commits what completed
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);

        var options = ParallelConsumerOptions.<byte[], byte[]>builder()
                .ordering(ProcessingOrder.KEY)
                .maxConcurrency(args.concurrency)
                .consumer(new KafkaConsumer<>(cp));
        if (args.forwardTo != null) {
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args.brokers);
            pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            options.producer(new KafkaProducer<>(pp));
        }
        pc = ParallelStreamProcessor.createEosStreamProcessor(options.build());
        pc.subscribe(List.of(args.topic));

        if (args.forwardTo == null) {
            pc.poll(ctx -> {
                ConsumerRecord<byte[], byte[]> r = ctx.getSingleConsumerRecord();
                work();
                done(r);
            });
        } else {
            // PC sends the returned record and waits for its ack before calling the
            // callback, so the message counts only once forwarded.
            pc.pollAndProduce(ctx -> {
                ConsumerRecord<byte[], byte[]> r = ctx.getSingleConsumerRecord();
                work();
                return new ProducerRecord<>(args.forwardTo, r.key(), r.value());
            }, result -> done(result.getIn().getSingleConsumerRecord()));
        }

        // Close from this thread, never from a worker: close waits for the workers.
        while (!reachedMax.await(500, TimeUnit.MILLISECONDS)) {
            if (pc.isClosedOrFailed() && !stopping) {
                System.err.println(PEER + ": the parallel consumer failed (its error is logged above)");
                Runtime.getRuntime().halt(1);
            }
        }
        finish();
        System.exit(0);
    }

    private void work() {
        if (args.workNanos == 0) return;
        try {
            Thread.sleep(args.workNanos / 1_000_000, (int) (args.workNanos % 1_000_000));
        } catch (InterruptedException e) {
            // Interrupted only when close gives up waiting; the message is not done.
            Thread.currentThread().interrupt();
            throw new RuntimeException("work interrupted", e);
        }
    }

    private void done(ConsumerRecord<byte[], byte[]> r) {
        long n = stats.record(r.partition(), r.timestamp());
        if (args.maxMessages > 0 && n >= args.maxMessages) reachedMax.countDown();
    }

    /** Stop PC (it finishes in-flight work, commits, leaves the group), then print RESULT once. */
    private synchronized void finish() {
        if (finished) return;
        finished = true;
        stopping = true;
        try {
            if (pc != null) pc.close();
        } catch (Exception e) {
            System.err.println(PEER + ": closing the parallel consumer: " + e);
        }
        stats.closeTrace();
        System.out.println(stats.resultLine(PEER));
        System.out.flush();
    }

    /** The README's flags. */
    static final class Args {
        static final String USAGE = "usage: pc-peer --brokers HOST:PORT --topic T --group G [--work 5ms]"
                + " [--max-messages N] [--trace FILE] [--forward-to TOPIC] [--concurrency N]";
        String brokers, topic, group, trace, forwardTo;
        long workNanos, maxMessages;
        int concurrency = 100;

        static Args parse(String[] argv) {
            Map<String, String> m = new HashMap<>();
            for (int i = 0; i < argv.length; i += 2) {
                String k = argv[i];
                if (!List.of("--brokers", "--topic", "--group", "--work", "--max-messages", "--trace",
                        "--forward-to", "--concurrency").contains(k))
                    throw new IllegalArgumentException("unknown flag " + k);
                if (i + 1 >= argv.length) throw new IllegalArgumentException(k + " needs a value");
                m.put(k, argv[i + 1]);
            }
            Args a = new Args();
            a.brokers = required(m, "--brokers");
            a.topic = required(m, "--topic");
            a.group = required(m, "--group");
            a.trace = m.get("--trace");
            a.forwardTo = m.get("--forward-to");
            a.workNanos = duration(m.getOrDefault("--work", "0ms"));
            a.maxMessages = number(m, "--max-messages", 0);
            a.concurrency = (int) number(m, "--concurrency", 100);
            if (a.concurrency < 1) throw new IllegalArgumentException("--concurrency must be at least 1");
            return a;
        }

        private static String required(Map<String, String> m, String k) {
            String v = m.get(k);
            if (v == null || v.isEmpty()) throw new IllegalArgumentException(k + " is required");
            return v;
        }

        private static long number(Map<String, String> m, String k, long dflt) {
            String v = m.get(k);
            if (v == null) return dflt;
            try {
                long n = Long.parseLong(v);
                if (n < 0) throw new NumberFormatException();
                return n;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(k + ": not a non-negative integer: " + v);
            }
        }

        /** "0ms", "5ms", "500us", "1s" as nanoseconds. */
        private static long duration(String v) {
            var mt = java.util.regex.Pattern.compile("(\\d+)(us|ms|s)").matcher(v);
            if (!mt.matches()) throw new IllegalArgumentException("--work: not a duration like 5ms: " + v);
            long n = Long.parseLong(mt.group(1));
            return switch (mt.group(2)) {
                case "us" -> n * 1_000L;
                case "ms" -> n * 1_000_000L;
                default -> n * 1_000_000_000L;
            };
        }
    }
}
