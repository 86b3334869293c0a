// CpuMark: CPU time used so far by this process (every thread: ours,
// librdkafka's, the mock broker's) and by the whole system. The benchmarks
// take one before and after a measured window: the process's share is the cost,
// the rest of the system's is the disturbance they report.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>

struct CpuMark {
  double process = 0;
  double system = 0;

  static CpuMark Now() {
    CpuMark m;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
    m.process = secs(ru.ru_utime) + secs(ru.ru_stime);
    std::ifstream stat("/proc/stat");
    std::string cpu;
    long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
    if (stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq && cpu == "cpu") {
      m.system = static_cast<double>(user + nice + system + irq + softirq) / sysconf(_SC_CLK_TCK);
    }
    return m;
  }
};
