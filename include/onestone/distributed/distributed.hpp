#pragma once
/// @file distributed.hpp
/// The optional MPI part of onestone (target `onestone::mpi`): data-parallel training with every
/// balancing method. Not included by onestone.hpp; include this header in a program linked
/// with `onestone::mpi`.
///
/// @code
/// #include "onestone/onestone.hpp"
/// #include "onestone/distributed/distributed.hpp"
/// @endcode

#include "onestone/distributed/checkpoint.hpp"
#include "onestone/distributed/communicator.hpp"
#include "onestone/distributed/data_parallel.hpp"
#include "onestone/distributed/sampler.hpp"
#include "onestone/distributed/trainer.hpp"
