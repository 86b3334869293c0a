"""scripts/bench's figures from raw data: the RESULT line, scenario c's gaps, medians."""
import importlib.machinery
import importlib.util
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
loader = importlib.machinery.SourceFileLoader("bench", str(ROOT / "scripts" / "bench"))
spec = importlib.util.spec_from_loader("bench", loader)
bench = importlib.util.module_from_spec(spec)
loader.exec_module(bench)


class ResultLineTest(unittest.TestCase):
    def test_the_last_result_line_wins_and_numbers_are_numbers(self):
        out = ("log line\nRESULT peer=x processed=1 seconds=0 rate=0 p50_ms=0 p99_ms=0 p999_ms=0 peak_rss_kb=1\n"
               "RESULT peer=kstrand processed=200 seconds=1.500 rate=133 p50_ms=2.5 p99_ms=9 p999_ms=12 "
               "peak_rss_kb=4096\n")
        r = bench.parse_result(out)
        self.assertEqual(r["peer"], "kstrand")
        self.assertEqual(r["processed"], 200)
        self.assertEqual(r["p99_ms"], 9.0)
        self.assertEqual(r["peak_rss_kb"], 4096)

    def test_no_result_line_is_none(self):
        self.assertIsNone(bench.parse_result("crashed\n"))


class RebalanceGapsTest(unittest.TestCase):
    def write(self, d, name, lines):
        path = Path(d) / name
        path.write_text("".join(f"{p} {t}\n" for p, t in lines))
        return path

    def test_stayed_and_moved_partitions_and_their_longest_gaps(self):
        # 12 partitions, a message every 10 ms from 0 to 10,000 ms on the first member,
        # except: partitions 0-5 move to the second member from 4,000 to 7,000 ms, after
        # a 300 ms hand-over gap; partition 11 stalls 150 ms at 5,000 ms.
        first, second = [], []
        for p in range(12):
            for t in range(0, 10_001, 10):
                if p < 6 and 4_000 <= t < 4_300:
                    continue  # hand-over
                if p < 6 and 4_300 <= t < 7_000:
                    second.append((p, t))
                elif p == 11 and 5_000 < t < 5_150:
                    continue
                else:
                    first.append((p, t))
        with tempfile.TemporaryDirectory() as d:
            traces = [self.write(d, "1.txt", first), self.write(d, "2.txt", second)]
            r = bench.rebalance_gaps(traces, 3_000, 9_000, 3_500)
        self.assertEqual((r["stayed"], r["moved"]), (6, 6))
        self.assertEqual(r["stayed_max_gap_ms"], 150)
        self.assertEqual(r["moved_max_gap_ms"], 310)
        self.assertEqual(r["moved_median_gap_ms"], 310)
        self.assertEqual(r["baseline_max_gap_ms"], 10)

    def test_a_partition_nobody_processed_in_the_window_counts_the_whole_window(self):
        with tempfile.TemporaryDirectory() as d:
            traces = [self.write(d, "1.txt", [(p, 1_000) for p in range(11)]), Path(d) / "missing.txt"]
            r = bench.rebalance_gaps(traces, 2_000, 5_000, 2_500)
        self.assertEqual(r["stayed"], 12)
        self.assertEqual(r["stayed_max_gap_ms"], 3_000)
        self.assertIsNone(r["baseline_max_gap_ms"])  # joined before it had run alone for 2 s

    def test_no_trace_from_the_first_member_is_no_result(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertIsNone(bench.rebalance_gaps([Path(d) / "a", Path(d) / "b"], 0, 1, 0))


class MedianTest(unittest.TestCase):
    def test_failed_runs_are_left_out_of_the_median_and_counted(self):
        runs = [{"rate": 10.0}, None, {"rate": 30.0}, {"rate": 20.0}]
        self.assertEqual(bench.median_of(runs, "rate"), 20.0)
        self.assertEqual(bench.fmt_spread(runs, "rate"), "10-30, 1 failed")
        self.assertIsNone(bench.median_of([None], "rate"))


if __name__ == "__main__":
    sys.exit(unittest.main())
