#pragma once
// `mpirun -n N clustersim sweep SWEEP.json --mpi`: the sweep over MPI ranks (an optional build feature,
// compiled when Open MPI is found; see docs/sweep.md for Slurm).
//
// Every rank reads the sweep file and builds the same SweepSpace. Rank 0 cuts the index range into chunks
// (each holding the same number of layouts to evaluate) and hands them out on request, so fast ranks take
// more; every rank, rank 0 included (on a second thread), evaluates its chunk with TBB and sends back the
// rows, counts and best rows. Rank 0 writes the chunks in index order through the same SweepOutput as a
// single-machine run, so the rows file and the summary are identical to it (except the timings), and
// --resume, --force, --all-rows, --shard and the progress bar work the same. Only rank 0's main thread
// calls MPI after MPI_Init_thread(MPI_THREAD_FUNNELED).
#include "cli/sweep_output.hpp"

namespace clustersim::cli {

// Runs the sweep on MPI_COMM_WORLD; returns the same exit code on every rank.
int run_mpi_sweep(const SweepCommandOptions& options, SweepProgressBar& progress);

}  // namespace clustersim::cli
