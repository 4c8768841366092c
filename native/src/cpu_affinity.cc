#include "cpu_affinity.h"

#include <omp.h>
#include <pthread.h>

namespace dynbatch {

bool cpusOtherThan(int cpu, cpu_set_t* out) {
  if (cpu < 0 || sched_getaffinity(0, sizeof(*out), out) != 0) return false;
  CPU_CLR(cpu, out);
  return CPU_COUNT(out) > 0;
}

void keepTeamOffCaller(int threads) {
  // Per caller: each thread that opens parallel regions has an OpenMP team of its own.
  thread_local int keptOff = -1;
  const int cpu = sched_getcpu();
  if (threads < 2 || cpu == keptOff) return;
  cpu_set_t others;
  if (!cpusOtherThan(cpu, &others)) return;
#pragma omp parallel num_threads(threads)
  if (omp_get_thread_num() > 0) pthread_setaffinity_np(pthread_self(), sizeof(others), &others);
  keptOff = cpu;
}

}  // namespace dynbatch
