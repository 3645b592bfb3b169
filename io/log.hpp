#pragma once
// One spdlog logger per component ("io.port", "actors.broker", ...), all
// writing to stderr. The level comes from IOCAF_LOG (trace, debug, info,
// warn, error, off; default info) or from set_log_level().
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace iocaf {

std::shared_ptr<spdlog::logger> logger(const std::string& component);
// Sets the level of every iocaf logger, present and future. Returns false
// for an unknown level name.
bool set_log_level(const std::string& level);

} // namespace iocaf
