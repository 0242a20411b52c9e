// OpenMPI's handles (MPI_COMM_WORLD, MPI_BYTE, …) are macros that cast the address of a global:
// Swift cannot import them, so these functions hand them over.
#include <mpi.h>

static inline MPI_Comm lockstep_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype lockstep_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Request lockstep_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *lockstep_mpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
static inline int lockstep_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int lockstep_mpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
