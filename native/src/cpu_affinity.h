// Keeping helper threads off the CPU of the thread they help. Woken from sleep, a thread tends to
// be placed on its waker's CPU, where it waits behind the waker's own work; on a two-vCPU machine
// that serialises a two-thread run until the scheduler moves one of them.
#pragma once
#include <sched.h>

namespace dynbatch {

// The CPUs the calling thread may use other than `cpu`; false where there are none.
bool cpusOtherThan(int cpu, cpu_set_t* out);

// Before a parallel region of `threads` threads on the calling thread: when the caller runs on
// another CPU than at its last call, the OpenMP team's other threads are restricted to the CPUs
// other than the caller's (one extra parallel region, only then). In-process A/B, each run after
// an onnxruntime run, three runs: landmarks n = 1 0.92-0.96x, head pose n = 1 and 8 unchanged
// (0.97-1.04x).
void keepTeamOffCaller(int threads);

}  // namespace dynbatch
