#pragma once
/// @file optim.hpp
/// Everything of the optim layer.

#include "onestone/optim/adam.hpp"
#include "onestone/optim/clip.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/optim/scheduler.hpp"
#include "onestone/optim/sgd.hpp"
