#include <cblas.h>
// OpenBLAS extensions: declared in its cblas.h, repeated here for clarity of what Lockstep uses.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

// The pthread and OpenMP builds of OpenBLAS start their thread pool when the library loads, and
// each idle thread spins on sched_yield for about 2^28 cycles before it sleeps: a core taken for
// the first 0.1–0.2 s of every run (seen in perf beside the data loading and the first steps).
// Weak, because the serial build has no pool and no such function.
__attribute__((weak)) int blas_thread_shutdown_(void);

/// Stops OpenBLAS's thread pool, where the build has one; a later call that asks for more
/// threads starts it again.
static inline void lockstep_openblas_stop_pool(void) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}
