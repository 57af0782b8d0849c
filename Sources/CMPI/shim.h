// System library: Open MPI's mpi.h (Debian's libopenmpi-dev, pkg-config ompi-c).
#include <mpi.h>
