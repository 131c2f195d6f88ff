#pragma once
/// @file sharing.hpp
/// Every sharing strategy.

#include "onestone/sharing/conv_cross_stitch.hpp"
#include "onestone/sharing/conv_mtan.hpp"
#include "onestone/sharing/cross_stitch.hpp"
#include "onestone/sharing/dselect_k.hpp"
#include "onestone/sharing/hard.hpp"
#include "onestone/sharing/mmoe.hpp"
#include "onestone/sharing/mtan.hpp"
#include "onestone/sharing/ple.hpp"
#include "onestone/sharing/soft.hpp"
#include "onestone/sharing/strategy.hpp"
