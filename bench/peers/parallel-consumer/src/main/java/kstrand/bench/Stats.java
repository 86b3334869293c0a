package kstrand.bench;

import java.io.BufferedWriter;
import java.io.FileWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/** Counts, the latency histogram, the trace and the RESULT line of bench/peers/README.md; thread-safe. */
final class Stats {
    private static final double LOG_BASE = Math.log(1.01);
    // 1.01^4096 us is far beyond any latency; larger ones land in the last bucket.
    private final AtomicLongArray buckets = new AtomicLongArray(4096);
    private final AtomicLong processed = new AtomicLong();
    private final AtomicLong firstUs = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastUs = new AtomicLong(Long.MIN_VALUE);
    // Wall clock with microsecond steps: currentTimeMillis once, nanoTime for the rest.
    private final long baseUs = System.currentTimeMillis() * 1000;
    private final long baseNanos = System.nanoTime();
    private final BufferedWriter trace;

    Stats(String tracePath) throws IOException {
        trace = tracePath == null ? null : new BufferedWriter(new FileWriter(tracePath), 1 << 16);
    }

    private long nowUs() {
        return baseUs + (System.nanoTime() - baseNanos) / 1000;
    }

    /** One message finished now; returns how many have. */
    long record(int partition, long kafkaTimestampMs) {
        long now = nowUs();
        long latencyUs = now - kafkaTimestampMs * 1000;
        int b = latencyUs < 1 ? 0 : (int) Math.min(buckets.length() - 1, Math.floor(Math.log(latencyUs) / LOG_BASE));
        buckets.incrementAndGet(b);
        firstUs.accumulateAndGet(now, Math::min);
        lastUs.accumulateAndGet(now, Math::max);
        if (trace != null) {
            synchronized (trace) {
                try {
                    trace.write(partition + " " + now / 1000 + "\n");
                } catch (IOException e) {
                    throw new RuntimeException("writing the trace", e);
                }
            }
        }
        return processed.incrementAndGet();
    }

    void closeTrace() {
        if (trace == null) return;
        synchronized (trace) {
            try {
                trace.close();
            } catch (IOException e) {
                System.err.println("parallel-consumer: writing the trace: " + e);
            }
        }
    }

    /** The lower bound of the bucket holding the p-th latency (nearest rank), in ms. */
    private double percentileMs(long total, double p) {
        if (total == 0) return 0;
        long rank = Math.max(1, (long) Math.ceil(p * total));
        long seen = 0;
        for (int b = 0; b < buckets.length(); b++) {
            seen += buckets.get(b);
            if (seen >= rank) return Math.pow(1.01, b) / 1000;
        }
        return Math.pow(1.01, buckets.length() - 1) / 1000;
    }

    String resultLine(String peer) {
        long n = processed.get();
        double seconds = n < 2 ? 0 : (lastUs.get() - firstUs.get()) / 1e6;
        double rate = n < 2 || seconds <= 0 ? 0 : n / seconds;
        return String.format(Locale.ROOT,
                "RESULT peer=%s processed=%d seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f peak_rss_kb=%d",
                peer, n, seconds, rate, percentileMs(n, 0.50), percentileMs(n, 0.99), percentileMs(n, 0.999),
                peakRssKb());
    }

    private static long peakRssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", ""));
            }
        } catch (IOException | NumberFormatException e) {
            // Not Linux: report 0 rather than fail the run.
        }
        return 0;
    }
}
