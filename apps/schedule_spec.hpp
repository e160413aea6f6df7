#pragma once
// The --lr-schedule SPEC of `xdense train`: a learning-rate schedule (xdense/schedule.hpp) written
// as NAME:key=value,key=value, e.g.
//   exponential:decay_steps=1000,decay_rate=0.9[,staircase=1]
//   cosine:decay_steps=5000[,alpha=0.1][,warmup_steps=500,warmup_target=0.01]
//   piecewise:boundaries=1000/2000,values=0.01/0.005/0.001
//   inverse_time:decay_steps=100,decay_rate=0.5
//   polynomial:decay_steps=5000[,end_learning_rate=0.0001,power=1,cycle=0]
// NAME is a schedule's alias or Keras class name (ExponentialDecay); the keys are its config keys,
// lists separated by '/', booleans 1/0 or true/false. Steps count optimizer steps (batches).

#include <memory>
#include <string>

#include "xdense/schedule.hpp"

namespace xdense::cli {

/// The schedule SPEC describes. initial_learning_rate, when the schedule has that key and SPEC does
/// not give it, is `initial_learning_rate` (the optimizer's --lr): a float widened to double is taken
/// as its shortest decimal (0.001, not 0.0010000000474974513), so the saved config reads as typed.
/// Throws InvalidArgument with one line "--lr-schedule: ..." naming the bad name, key or value and
/// the schedule's keys.
std::shared_ptr<const LearningRateSchedule> parse_schedule_spec(const std::string& spec, double initial_learning_rate);

/// The SPEC forms, one line per built-in schedule ("exponential:decay_steps=N,decay_rate=R[,staircase=1]"),
/// for --help texts.
std::string schedule_spec_forms();

}  // namespace xdense::cli
