#pragma once

// Kept so that agent/cli/command_support.cpp builds unchanged: the protocol's errors now live in
// agent/protocol_errors.hpp. Remove once nothing includes this file.
#include "agent/protocol_errors.hpp"
